/**
 * One status line on stderr while the bench waits. On a terminal it is redrawn in place; otherwise
 * (a log file, CI) a line is written when the phase changes and at most every 10 s, so that logs
 * stay readable.
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private phase = '';
  private lastWrite = 0;
  private drawn = false;

  update(phase: string, detail: string): void {
    const line = `[bench:scale] ${phase}: ${detail}`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${line}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (phase === this.phase && now - this.lastWrite < 10_000) return;
    this.phase = phase;
    this.lastWrite = now;
    process.stderr.write(`${line}\n`);
  }

  /** A line that stays, below the status line. */
  log(message: string): void {
    this.clear();
    process.stderr.write(`[bench:scale] ${message}\n`);
  }

  clear(): void {
    if (this.tty && this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}
