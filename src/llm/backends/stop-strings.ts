/**
 * Cuts streamed text at the first stop string. Text that could still turn out to be the start of a stop
 * string is held back until it cannot, so what has been emitted never contains (part of) a stop string
 * and the streamed pieces always add up to the final text.
 */
export class StopStringFilter {
  private pending = "";
  private stoppedFlag = false;
  private readonly stops: string[];
  private readonly trimEnd: boolean;

  /** `trimTrailingWhitespace`: whitespace at the very end is dropped (held back until text follows it). */
  constructor(stops: readonly string[], options?: { trimTrailingWhitespace?: boolean }) {
    this.stops = stops.filter((s) => s.length > 0);
    this.trimEnd = options?.trimTrailingWhitespace ?? false;
  }

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** Add generated text; returns the text that is now safe to emit. */
  push(text: string): string {
    if (this.stoppedFlag) return "";
    this.pending += text;
    let cut = -1;
    for (const s of this.stops) {
      const at = this.pending.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stoppedFlag = true;
      const out = this.pending.slice(0, cut);
      this.pending = "";
      return this.trimEnd ? out.trimEnd() : out;
    }
    let hold = this.heldSuffixLength();
    if (this.trimEnd) hold = Math.max(hold, this.pending.length - this.pending.trimEnd().length);
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return out;
  }

  /** End of generation: whatever was held back is plain text after all. */
  flush(): string {
    const out = this.stoppedFlag ? "" : this.pending;
    this.pending = "";
    return this.trimEnd ? out.trimEnd() : out;
  }

  /** Length of the longest suffix of `pending` that is a proper prefix of some stop string. */
  private heldSuffixLength(): number {
    let best = 0;
    for (const s of this.stops) {
      const max = Math.min(s.length - 1, this.pending.length);
      for (let n = max; n > best; n--) {
        if (this.pending.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
