import { DataFormatError } from "../../core/index.js";

/** What lenient loading skipped in one file: how many lines, the first few line numbers and why. */
export interface SkippedLines {
  file: string;
  count: number;
  /** The first {@link MAX_EXAMPLES} skipped line numbers (1-based), ascending. */
  lines: number[];
  /** The problem found on each of those lines, parallel to `lines`. */
  problems: string[];
}

export const MAX_EXAMPLES = 10;

/**
 * Collects problems with single lines of one file. Strict (the default): the first problem throws a
 * DataFormatError naming file, line and expectation. Lenient: the line is skipped and counted.
 */
export class LineIssues {
  private n = 0;
  private readonly lines: number[] = [];
  private readonly problems: string[] = [];

  constructor(
    readonly file: string,
    readonly lenient: boolean,
  ) {}

  /** Report a bad line; throws unless lenient. The caller skips the line when this returns. */
  bad(line: number, problem: string, field?: string): void {
    if (!this.lenient) {
      throw new DataFormatError(
        { file: this.file, line, field },
        `${problem} (pass --lenient / lenient: true to skip bad lines)`,
      );
    }
    this.n++;
    if (this.lines.length < MAX_EXAMPLES) {
      this.lines.push(line);
      this.problems.push(field ? `field "${field}": ${problem}` : problem);
    }
  }

  get count(): number {
    return this.n;
  }

  /** The summary, or undefined when nothing was skipped. */
  summary(): SkippedLines | undefined {
    if (this.n === 0) return undefined;
    const order = this.lines.map((_, i) => i).sort((a, b) => this.lines[a] - this.lines[b]);
    return {
      file: this.file,
      count: this.n,
      lines: order.map((i) => this.lines[i]),
      problems: order.map((i) => this.problems[i]),
    };
  }
}
