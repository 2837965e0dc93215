// The last N bytes of a stream in a fixed buffer: both sides of the reconnecting PTY keep the
// recent output (the agent to replay it, the client to recognise the replay), and copying a
// 64 KiB window on every frame would cost more than the traffic itself.
export class ByteRing {
  private readonly buffer: Buffer;
  /** Where the next byte goes. */
  private end = 0;
  private filled = 0;

  constructor(readonly capacity: number) {
    this.buffer = Buffer.alloc(capacity);
  }

  get length(): number {
    return this.filled;
  }

  write(chunk: Buffer): void {
    if (chunk.length >= this.capacity) {
      chunk.copy(this.buffer, 0, chunk.length - this.capacity);
      this.end = 0;
      this.filled = this.capacity;
      return;
    }
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
}
