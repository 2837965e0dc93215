// Incremental parser for a byte stream of concatenated JSON objects, as the reconnecting PTY
// receives it: WebSocket frame boundaries carry no meaning, so an object may span frames and
// one frame may hold several objects.

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Bounds the bytes of one unfinished object, so a client cannot make the buffer grow forever. */
const MAX_OBJECT_BYTES = 1024 * 1024;

export class JsonStreamError extends Error {}

export class JsonObjectStream {
  private buffered: Buffer = Buffer.alloc(0);
  /** Scan state carried across pushes, so each byte is looked at once. */
  private scanned = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** Appends bytes and returns every object completed by them. Throws JsonStreamError. */
  push(chunk: Buffer): unknown[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const objects: unknown[] = [];
    let objectStart = 0;
    for (let i = this.scanned; i < this.buffered.length; i++) {
      const byte = this.buffered[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
        continue;
      }
      if (this.depth === 0) {
        // Between objects only whitespace is allowed (Go's json.Decoder accepts it too).
        if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) {
          objectStart = i + 1;
          continue;
        }
        if (byte !== OPEN_BRACE) throw new JsonStreamError(`expected a JSON object, got byte 0x${byte.toString(16)}`);
      }
      if (byte === QUOTE) this.inString = true;
      else if (byte === OPEN_BRACE) this.depth++;
      else if (byte === CLOSE_BRACE) {
        this.depth--;
        if (this.depth === 0) {
          const text = this.buffered.toString('utf8', objectStart, i + 1);
          try {
            objects.push(JSON.parse(text));
          } catch (error) {
            throw new JsonStreamError(`invalid JSON object: ${(error as Error).message}`);
          }
          objectStart = i + 1;
        }
      }
    }
    this.buffered = this.buffered.subarray(objectStart);
    this.scanned = this.buffered.length;
    if (this.buffered.length > MAX_OBJECT_BYTES) throw new JsonStreamError(`a JSON object exceeds ${MAX_OBJECT_BYTES} bytes`);
    return objects;
  }
}
