import { redact } from './redact';

/**
 * The last `limit` characters of a command's output, with secrets redacted. Raw output is kept a
 * little longer than the limit, so that a secret cut in half by the bound is dropped whole rather
 * than leaking its second half.
 */
export class OutputTail {
  private raw = '';
  private truncated = false;
  private readonly longest: number;

  constructor(
    private readonly limit: number,
    private readonly secrets: readonly string[],
  ) {
    this.longest = secrets.reduce((max, s) => Math.max(max, s.length), 0);
  }

  push(chunk: string): void {
    const keep = this.limit + 2 * this.longest;
    this.raw += chunk;
    if (this.raw.length > keep) {
      this.raw = this.raw.slice(-keep);
      this.truncated = true;
    }
  }

  /** The redacted tail: never longer than the limit, never part of a secret. */
  text(): string {
    let text = redact(this.raw, this.secrets);
    // Text before the first redaction is unchanged, so a secret cut at the start lies within the
    // first `longest` characters.
    if (this.truncated) text = text.slice(this.longest);
    return text.slice(-this.limit);
  }
}
