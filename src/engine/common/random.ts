// A small seeded PRNG (mulberry32): the plan's seed makes payloads and dashboard jitter
// repeatable. Not for secrets (names and passwords use crypto).
export function seededRandom(seed?: number): () => number {
  let state = (seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PAYLOAD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DEFAULT_POOL_BYTES = 64 * 1024;

/**
 * Random alphanumerics generated once; a tick's body is a slice at a random offset, so the hot
 * path draws one random number per tick instead of one per byte, and an echo is checked
 * against the pool with a native compare. Shared by the connections of a stage (passed in,
 * never module-level, so connections can move to a worker with their own pool).
 */
export class PayloadPool {
  readonly bytes: Buffer;

  constructor(
    private readonly random: () => number,
    size = DEFAULT_POOL_BYTES,
  ) {
    this.bytes = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) this.bytes[i] = PAYLOAD_ALPHABET.charCodeAt(Math.floor(random() * PAYLOAD_ALPHABET.length));
  }

  private latin1?: string;

  /** `length` bytes from `offset` as text (the pool is ASCII): a slice of one string, not a copy. */
  text(offset: number, length: number): string {
    this.latin1 ??= this.bytes.toString('latin1');
    return this.latin1.substring(offset, offset + length);
  }

  /** A random offset where `length` bytes fit (length ≤ the pool's size). */
  offset(length: number): number {
    return Math.floor(this.random() * (this.bytes.length - length + 1));
  }
}
