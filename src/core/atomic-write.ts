import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/** Write a whole file atomically: temp file in the same folder, then rename over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** JSON with two-space indentation and a final newline, written atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Stream many lines (JSONL, large text) to a temp file and rename at `commit()`; `abort()` removes the
 * temp file. Nothing appears at `path` until commit.
 */
export class AtomicLineWriter {
  private readonly tmp: string;
  private readonly stream;
  private closed = false;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = tempPathFor(path);
    this.stream = createWriteStream(this.tmp);
  }

  /** Write one line (a newline is appended). Resolves when the stream can take more. */
  async writeLine(line: string): Promise<void> {
    if (!this.stream.write(`${line}\n`)) await new Promise<void>((r) => this.stream.once("drain", () => r()));
  }

  async commit(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve, reject) =>
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    renameSync(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    rmSync(this.tmp, { force: true });
  }
}
