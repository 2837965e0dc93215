// Waiting for a moment of the run's timeline without outliving an abort.

/** Resolves at `epochMs` or as soon as `signal` aborts. */
export function sleepUntil(epochMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, epochMs - Date.now()));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
