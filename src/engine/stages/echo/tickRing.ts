// The ticks of one echo session by sequence number, from the oldest still open to the newest:
// due but not sent yet (the newest ones, while the connection is down), sent and waiting for
// their echo, or settled. Typed arrays in a ring that doubles when full: no object and no map
// entry per tick (at 1000 connections that is 10 000 of each a second for the collector).
// Ticks are settled in any order (an echo, a mismatch) but expire oldest first, as their
// scheduled times grow with their sequence numbers.
const INITIAL_SLOTS = 16;
const SETTLED = 0;
const UNSENT = 1;
const PENDING = 2;
const NOTHING_EXPIRED = Object.freeze({ pending: 0, unsent: 0 });

export class TickRing {
  private scheduledAt = new Float64Array(INITIAL_SLOTS);
  private offsets = new Uint32Array(INITIAL_SLOTS);
  private states = new Uint8Array(INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;
  /** The oldest tick not settled (or `end`). */
  private head = 0;
  /** The oldest unsent tick (or `end`): unsent ticks are [firstUnsent, end). */
  private unsentFrom = 0;
  /** The next tick's sequence number. */
  private end = 0;
  private pending = 0;

  /** The sequence number the next tick gets. */
  get nextSeq(): number {
    return this.end;
  }

  get pendingCount(): number {
    return this.pending;
  }

  get unsentCount(): number {
    return this.end - this.unsentFrom;
  }

  /** The oldest unsent tick; with `nextSeq`, the range `sendUnsent` walks. */
  get firstUnsent(): number {
    return this.unsentFrom;
  }

  /** A new tick (sequence number `nextSeq`), due at `scheduledAt`, its body at `offset` in the pool. */
  addUnsent(scheduledAt: number, offset: number): void {
    if (this.end - this.head === this.states.length) this.grow();
    const slot = this.end & this.mask;
    this.scheduledAt[slot] = scheduledAt;
    this.offsets[slot] = offset;
    this.states[slot] = UNSENT;
    this.end++;
  }

  /** The oldest unsent tick is sent: it waits for its echo now. */
  markSent(): void {
    this.states[this.unsentFrom & this.mask] = PENDING;
    this.unsentFrom++;
    this.pending++;
  }

  isPending(seq: number): boolean {
    return seq >= this.head && seq < this.end && this.states[seq & this.mask] === PENDING;
  }

  scheduledAtOf(seq: number): number {
    return this.scheduledAt[seq & this.mask];
  }

  offsetOf(seq: number): number {
    return this.offsets[seq & this.mask];
  }

  /** A pending tick is done (echoed, or its echo was wrong). */
  settle(seq: number): void {
    this.states[seq & this.mask] = SETTLED;
    this.pending--;
    while (this.head < this.unsentFrom && this.states[this.head & this.mask] === SETTLED) this.head++;
  }

  /**
   * Settles every tick scheduled at or before `cutoff`, oldest first; returns how many of them
   * were pending (their echo is lost) and how many never went out.
   */
  expire(cutoff: number): { pending: number; unsent: number } {
    // The usual case (nothing that old), without an object per call.
    if (this.head === this.end || this.scheduledAt[this.head & this.mask] > cutoff) return NOTHING_EXPIRED;
    let pending = 0;
    let unsent = 0;
    while (this.head < this.end && this.scheduledAt[this.head & this.mask] <= cutoff) {
      const slot = this.head & this.mask;
      if (this.states[slot] === PENDING) pending++;
      else if (this.states[slot] === UNSENT) unsent++;
      this.states[slot] = SETTLED;
      this.head++;
    }
    this.pending -= pending;
    if (this.unsentFrom < this.head) this.unsentFrom = this.head;
    return { pending, unsent };
  }

  /** Drops every open tick (sequence numbers go on from `nextSeq`). */
  clear(): void {
    for (let seq = this.head; seq < this.end; seq++) this.states[seq & this.mask] = SETTLED;
    this.head = this.unsentFrom = this.end;
    this.pending = 0;
  }

  private grow(): void {
    const size = this.states.length * 2;
    const [scheduledAt, offsets, states] = [new Float64Array(size), new Uint32Array(size), new Uint8Array(size)];
    const mask = size - 1;
    for (let seq = this.head; seq < this.end; seq++) {
      scheduledAt[seq & mask] = this.scheduledAt[seq & this.mask];
      offsets[seq & mask] = this.offsets[seq & this.mask];
      states[seq & mask] = this.states[seq & this.mask];
    }
    [this.scheduledAt, this.offsets, this.states, this.mask] = [scheduledAt, offsets, states, mask];
  }
}
