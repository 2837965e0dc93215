// The tick ring against a plain model (a map of open ticks): whatever order ticks are added,
// sent, settled, expired and cleared in, and however far it has to grow, it says the same.
import * as assert from 'assert';
import fc from 'fast-check';
import { TickRing } from '../../../../../src/engine/stages/echo/tickRing';

type Step =
  | { kind: 'add'; count: number }
  | { kind: 'send'; count: number }
  | { kind: 'settle'; pick: number }
  | { kind: 'expire'; back: number }
  | { kind: 'clear' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('add' as const), count: fc.integer({ min: 1, max: 40 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('send' as const), count: fc.integer({ min: 1, max: 40 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: fc.nat() }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('expire' as const), back: fc.integer({ min: 0, max: 60 }) }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'clear' as const }), weight: 1 },
);

describe("tick ring (the echo session's open ticks)", () => {
  it('agrees with a map of open ticks through any sequence of adds, sends, settles, expiries and clears', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
        const ring = new TickRing();
        // The model: seq → [scheduledAt, offset, state].
        const open = new Map<number, { at: number; offset: number; sent: boolean }>();
        let nextSeq = 0;
        for (const s of steps) {
          if (s.kind === 'add') {
            for (let i = 0; i < s.count; i++) {
              ring.addUnsent(nextSeq * 10, nextSeq * 7);
              open.set(nextSeq, { at: nextSeq * 10, offset: nextSeq * 7, sent: false });
              nextSeq++;
            }
          } else if (s.kind === 'send') {
            const unsent = [...open].filter(([, t]) => !t.sent).map(([seq]) => seq);
            for (const seq of unsent.slice(0, s.count)) {
              assert.strictEqual(ring.firstUnsent, seq);
              ring.markSent();
              open.get(seq)!.sent = true;
            }
          } else if (s.kind === 'settle') {
            const pending = [...open].filter(([, t]) => t.sent).map(([seq]) => seq);
            if (pending.length === 0) continue;
            const seq = pending[s.pick % pending.length];
            assert.ok(ring.isPending(seq));
            assert.strictEqual(ring.scheduledAtOf(seq), seq * 10);
            assert.strictEqual(ring.offsetOf(seq), seq * 7);
            ring.settle(seq);
            open.delete(seq);
          } else if (s.kind === 'expire') {
            const cutoff = (nextSeq - s.back) * 10;
            const expired = [...open].filter(([, t]) => t.at <= cutoff);
            assert.deepStrictEqual(ring.expire(cutoff), {
              pending: expired.filter(([, t]) => t.sent).length,
              unsent: expired.filter(([, t]) => !t.sent).length,
            });
            for (const [seq] of expired) open.delete(seq);
          } else {
            ring.clear();
            open.clear();
          }
          assert.strictEqual(ring.nextSeq, nextSeq);
          assert.strictEqual(ring.pendingCount, [...open.values()].filter((t) => t.sent).length);
          assert.strictEqual(ring.unsentCount, [...open.values()].filter((t) => !t.sent).length);
          for (let seq = Math.max(0, nextSeq - 200); seq < nextSeq + 2; seq++)
            assert.strictEqual(ring.isPending(seq), open.get(seq)?.sent === true, `seq ${seq}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
