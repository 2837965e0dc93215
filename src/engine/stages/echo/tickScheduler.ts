// One timer per due time instead of one per connection per tick: the connections of an echo
// stage share a few tick schedules (t0 + phase + n × interval, see tickPhaseMs), so each phase of
// the whole stage costs one setTimeout per tick. A scheduler belongs to a stage (passed in, no
// module-level state).
import { performance } from 'perf_hooks';

/**
 * Where in the tick interval connection `index` of `count` sends (ms after the stage's t0):
 * spread evenly over the interval in whole milliseconds. Coder's own workspace-traffic runner
 * starts each connection's ticker when that connection is up, so its sends are spread too; all
 * connections in phase would instead send N messages in the same instant every tick — a burst
 * the deployment never sees from real users, and one whose own serialisation time (N × the
 * per-send cost) would show up as send lag and round trip of the burst's last messages.
 * Whole milliseconds keep the timers few: at most one per millisecond of the interval.
 */
export function tickPhaseMs(index: number, count: number, intervalMs: number): number {
  const slots = Math.max(1, Math.min(count, Math.floor(intervalMs)));
  return Math.floor(((index % slots) * intervalMs) / slots);
}

export class TickScheduler {
  private readonly due = new Map<number, Array<() => void>>();
  /** Lists of fired times, emptied, for the next times: no new array per timer. */
  private readonly spare: Array<Array<() => void>> = [];
  private readonly fireAt = (time: number) => this.fire(time);

  /** Calls `callback` once `performance.now()` has reached `time` (ms). */
  at(time: number, callback: () => void): void {
    let callbacks = this.due.get(time);
    if (!callbacks) {
      callbacks = this.spare.pop() ?? [];
      this.due.set(time, callbacks);
      setTimeout(this.fireAt, Math.max(0, time - performance.now()), time);
    }
    callbacks.push(callback);
  }

  private fire(time: number): void {
    const callbacks = this.due.get(time);
    if (!callbacks) return;
    this.due.delete(time);
    // A callback schedules its next tick at a later time, in another list.
    for (let i = 0; i < callbacks.length; i++) callbacks[i]();
    callbacks.length = 0;
    this.spare.push(callbacks);
  }
}
