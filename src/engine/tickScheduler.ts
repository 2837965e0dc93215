// One timer per due time instead of one per connection per tick: the connections of an echo
// stage share the stage's tick schedule (t0 + n × interval), so each tick of the whole stage
// costs one setTimeout. A scheduler belongs to a stage (passed in, no module-level state).
import { performance } from 'perf_hooks';

export class TickScheduler {
  private readonly due = new Map<number, Array<() => void>>();

  /** Calls `callback` once `performance.now()` has reached `time` (ms). */
  at(time: number, callback: () => void): void {
    let callbacks = this.due.get(time);
    if (!callbacks) {
      callbacks = [];
      this.due.set(time, callbacks);
      setTimeout(() => this.fire(time), Math.max(0, time - performance.now()));
    }
    callbacks.push(callback);
  }

  private fire(time: number): void {
    const callbacks = this.due.get(time);
    this.due.delete(time);
    if (callbacks) for (const callback of callbacks) callback();
  }
}
