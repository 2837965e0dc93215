// One transport interface for every echo stage (SSH, web terminal, workspace apps), so the
// engine schedules ticks, sends payloads and matches echoes the same way for each of them.
//
// What comes back, per transport (the engine sends random printable characters + '\n'):
// - PTY (openPtyEchoChannel): the terminal's own echo of the input. A terminal in cooked mode
//   turns '\n' into '\r\n' (onlcr); by default the channel undoes that (CrlfNormalizer), so the
//   bytes delivered to onData equal the bytes sent. On reconnect() the deployment replays up to
//   64 KiB of earlier output; the channel drops the part already delivered (ReplayDeduplicator),
//   so every echoed byte is delivered exactly once.
// - SSH (openSshEchoChannel): `dd if=/dev/stdin of=/dev/stdout` echoes stdin byte for byte.
// - Apps (openAppEchoChannel): the echo app returns each binary WebSocket frame as sent.
// In every case chunk boundaries carry no meaning: onData may split or join payloads.

export interface EchoCloseInfo {
  /** True when close() asked for it; false for drops, resets and server-side closes. */
  expected: boolean;
  /** WebSocket close code or process/SSH exit code, when there is one. */
  code?: number;
  reason: string;
}

export interface EchoChannel {
  /** Sends one payload. Throws when the channel is closed. */
  send(payload: Buffer): void;
  onData(callback: (chunk: Buffer) => void): void;
  onClose(callback: (info: EchoCloseInfo) => void): void;
  /** Ends the session the transport's polite way; resolves once it is fully closed. */
  close(): Promise<void>;
}

/** A PTY channel can re-attach to the same terminal session after a drop. */
export interface ReconnectableEchoChannel extends EchoChannel {
  /** Opens a new socket with the same reconnect id; resolves once it is attached. */
  reconnect(): Promise<void>;
}

/**
 * Streams terminal output back into what was typed: every '\r\n' becomes '\n'. A '\r' at the
 * end of one chunk is held until the next chunk shows whether a '\n' follows.
 */
export class CrlfNormalizer {
  private heldCarriageReturn = false;

  push(chunk: Buffer): Buffer {
    let start = 0;
    const parts: Buffer[] = [];
    if (this.heldCarriageReturn) {
      this.heldCarriageReturn = false;
      if (chunk.length === 0) {
        this.heldCarriageReturn = true;
        return Buffer.alloc(0);
      }
      if (chunk[0] !== 0x0a) parts.push(Buffer.from([0x0d]));
    }
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== 0x0d) continue;
      if (i === chunk.length - 1) {
        parts.push(chunk.subarray(start, i));
        this.heldCarriageReturn = true;
        start = chunk.length;
        break;
      }
      if (chunk[i + 1] === 0x0a) {
        parts.push(chunk.subarray(start, i));
        start = i + 1;
      }
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

/**
 * Removes the replayed prefix after a PTY re-attach. The deployment replays the last 64 KiB
 * of output, which starts somewhere inside what this client already received (or, if the
 * client missed more than 64 KiB, after it). The overlap is the longest suffix of the bytes
 * already received that is also a prefix of the new stream; it is skipped, the rest passes.
 * Incoming bytes are held only while some overlap candidate is still undecided (the replay
 * is written at attach time, so that is the first few frames).
 */
export class ReplayDeduplicator {
  static readonly REPLAY_BYTES = 64 * 1024;
  private tail: Buffer = Buffer.alloc(0);
  private pending: Buffer | undefined;
  private candidates: number[] | undefined;

  /** Call before re-attaching: the next bytes may start with a replay. */
  expectReplay(): void {
    this.pending = Buffer.alloc(0);
    this.candidates = undefined;
  }

  /** Feeds raw bytes from the socket; returns the bytes not seen before. */
  push(chunk: Buffer): Buffer {
    if (this.pending === undefined) {
      this.remember(chunk);
      return chunk;
    }
    const previousLength = this.pending.length;
    this.pending = Buffer.concat([this.pending, chunk]);
    const pending = this.pending;
    const tail = this.tail;
    if (this.candidates === undefined) this.candidates = tail.length > 0 ? [...Array(tail.length).keys()] : [];
    // A candidate start i in the tail claims tail[i..] == pending[0..tail.length-i].
    this.candidates = this.candidates.filter((start) => {
      const overlap = tail.length - start;
      const end = Math.min(overlap, pending.length);
      for (let k = Math.max(previousLength, 0); k < end; k++) if (tail[start + k] !== pending[k]) return false;
      return true;
    });
    const undecided = this.candidates.some((start) => tail.length - start > pending.length);
    if (undecided) return Buffer.alloc(0);
    const best = this.candidates.reduce((smallest, start) => Math.min(smallest, start), tail.length);
    const overlap = tail.length - best;
    this.pending = undefined;
    this.candidates = undefined;
    const fresh = pending.subarray(overlap);
    this.remember(fresh);
    return fresh;
  }

  private remember(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const joined = Buffer.concat([this.tail, chunk]);
    this.tail = joined.length > ReplayDeduplicator.REPLAY_BYTES ? Buffer.from(joined.subarray(joined.length - ReplayDeduplicator.REPLAY_BYTES)) : joined;
  }
}
