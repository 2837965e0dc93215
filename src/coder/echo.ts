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
//
// How each one closes: PTY — close() sends Ctrl-C and waits for EOF (close code 1000); a drop
// shows as 1006 (no close frame); 1003 / 1009 mean a text / oversized frame was sent. SSH —
// close() sends SIGHUP, ends stdin and waits; `code` is the remote exit status when there is
// one. Apps — close() does the WebSocket close handshake (1000); a drop shows as 1006.
// close() waits at most 30 s by default (closeTimeoutMs), then cuts the connection.
import { ByteRing } from './byteRing';

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
  private readonly recent = new ByteRing(ReplayDeduplicator.REPLAY_BYTES);
  /** While a replay may be arriving: what was received before, the new bytes, the candidates. */
  private replay: { tail: Buffer; pending: Buffer; candidates?: number[] } | undefined;

  /** Call before re-attaching: the next bytes may start with a replay. */
  expectReplay(): void {
    this.replay = { tail: this.recent.contents(), pending: Buffer.alloc(0) };
  }

  /** Feeds raw bytes from the socket; returns the bytes not seen before. */
  push(chunk: Buffer): Buffer {
    if (this.replay === undefined) {
      this.recent.write(chunk);
      return chunk;
    }
    const { tail } = this.replay;
    const checked = this.replay.pending.length;
    const pending = Buffer.concat([this.replay.pending, chunk]);
    this.replay.pending = pending;
    // A candidate start i in the tail claims tail[i..] == pending[0..tail.length-i].
    const candidates = (this.replay.candidates ?? Array.from({ length: tail.length }, (_, i) => i)).filter((start) => {
      const end = Math.min(tail.length - start, pending.length);
      for (let k = checked; k < end; k++) if (tail[start + k] !== pending[k]) return false;
      return true;
    });
    this.replay.candidates = candidates;
    if (candidates.some((start) => tail.length - start > pending.length)) return Buffer.alloc(0);
    // The longest overlap wins: the smallest surviving start (none: nothing was replayed twice).
    const overlap = tail.length - candidates.reduce((smallest, start) => Math.min(smallest, start), tail.length);
    this.replay = undefined;
    const fresh = pending.subarray(overlap);
    this.recent.write(fresh);
    return fresh;
  }
}
