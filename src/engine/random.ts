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
