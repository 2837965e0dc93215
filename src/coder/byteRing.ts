// The last N bytes of a stream in one buffer: the simulated agent keeps a PTY session's recent
// output to replay (buffered backend) or redraw (screen backend) it on re-attach, and copying
// a 64 KiB window on every frame would cost more than the traffic itself. The buffer grows to
// its capacity only as output arrives, so thousands of quiet sessions stay small.
const INITIAL_BYTES = 4096;

export class ByteRing {
  private buffer: Buffer;
  /** Where the next byte goes. */
  private end = 0;
  private filled = 0;

  constructor(readonly capacity: number) {
    this.buffer = Buffer.alloc(Math.min(capacity, INITIAL_BYTES));
  }

  get length(): number {
    return this.filled;
  }

  write(chunk: Buffer): void {
    if (chunk.length >= this.capacity) {
      this.grow(this.capacity);
      chunk.copy(this.buffer, 0, chunk.length - this.capacity);
      this.end = 0;
      this.filled = this.capacity;
      return;
    }
    // Until the buffer reaches capacity the bytes sit in order at [0, filled).
    if (this.buffer.length < this.capacity) this.grow(this.filled + chunk.length);
    const first = Math.min(chunk.length, this.capacity - this.end);
    chunk.copy(this.buffer, this.end, 0, first);
    chunk.copy(this.buffer, 0, first);
    this.end = (this.end + chunk.length) % this.capacity;
    this.filled = Math.min(this.capacity, this.filled + chunk.length);
  }

  /** A copy of the kept bytes, oldest first. */
  contents(): Buffer {
    if (this.filled < this.capacity) return Buffer.from(this.buffer.subarray(0, this.filled));
    return Buffer.concat([this.buffer.subarray(this.end), this.buffer.subarray(0, this.end)]);
  }

  private grow(needed: number): void {
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length;
    while (size < needed) size *= 2;
    const grown = Buffer.alloc(Math.min(size, this.capacity));
    this.buffer.copy(grown, 0, 0, this.filled);
    this.buffer = grown;
  }
}
