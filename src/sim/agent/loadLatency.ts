// The load-growing latency fault (`loadLatency`, docs/faults.md) on the data plane: an echo
// waits msPerConnection × (live connections of its kind − above), so a deployment that holds N
// users and breaks beyond can be simulated, and a capacity search has a known break point.
import type { FaultsConfig, DataPlaneKind } from '../faults';

/** The added delay for one echo of `kind` while `live` connections of that kind are open. */
export function loadDelayMs(faults: FaultsConfig, kind: DataPlaneKind, live: number): number {
  const knob = faults.loadLatency?.[kind];
  if (!knob) return 0;
  return knob.msPerConnection * Math.max(0, live - (knob.above ?? 0));
}

/**
 * Runs actions after their delay, strictly in the order they were given: a byte stream must
 * not be reordered when the delay shrinks between two chunks (connections closed meanwhile).
 * Without a delay and with nothing waiting, the action runs at once.
 */
export class OrderedDelay {
  private readonly queue: Array<{ due: number; action: () => void }> = [];
  private timer: NodeJS.Timeout | undefined;

  run(delayMs: number, action: () => void): void {
    if (delayMs <= 0 && this.queue.length === 0) {
      action();
      return;
    }
    const last = this.queue[this.queue.length - 1]?.due ?? 0;
    this.queue.push({ due: Math.max(Date.now() + Math.max(0, delayMs), last), action });
    if (this.queue.length === 1) this.arm();
  }

  /** Forgets what waits (the connection closed): nothing runs any more. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private arm(): void {
    const head = this.queue[0];
    if (!head) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.due - Date.now()));
  }

  private flush(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0].due <= now) this.queue.shift()!.action();
    this.arm();
  }
}
