// A Duplex over a separate readable and writable (a child's stdout and stdin, or one socket
// used as both), for libraries such as ssh2 that want a single socket-like stream. Ending or
// failing either side never throws: the owner reports those through its own events.
import { Duplex, type Readable, type Writable } from 'stream';

export class JoinedDuplex extends Duplex {
  constructor(
    private readonly source: Readable,
    private readonly sink: Writable,
  ) {
    super();
    source.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) source.pause();
    });
    source.on('end', () => this.push(null));
    source.on('error', () => this.destroy());
    source.on('close', () => this.destroy());
    sink.on('error', () => this.destroy());
  }

  override _read(): void {
    this.source.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.sink.writableEnded || this.sink.destroyed) return callback();
    this.sink.write(chunk, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sink.end(() => callback());
  }

  override _destroy(_error: Error | null, callback: (error?: Error | null) => void): void {
    this.source.destroy();
    if (this.sink !== (this.source as unknown)) this.sink.destroy();
    callback(null);
  }
}
