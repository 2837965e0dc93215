// Retries of idempotent steps (reads, deletes that re-read first) on transient failures.
import { setTimeout as sleep } from 'timers/promises';
import { CoderApiError, DeploymentUnreachableError, RequestTimeoutError } from '../../coder/errors';

/** A failure worth another try: the deployment or the path to it hiccuped, the request was fine. */
export function isTransient(error: unknown): boolean {
  if (error instanceof CoderApiError) return error.status === 429 || error.status >= 500;
  return error instanceof DeploymentUnreachableError || error instanceof RequestTimeoutError;
}

/**
 * Runs `operation` until it succeeds, fails for good, or `signal` aborts (the deletion's time
 * limit). Backoff doubles from 250 ms up to 5 s with full jitter; 429s were already retried by
 * the client after the deployment's Retry-After, so here they just wait their turn again.
 */
export async function withRetries<T>(
  operation: () => Promise<T>,
  signal: AbortSignal,
  onRetry?: (error: unknown, attempt: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error) || signal.aborted) throw error;
      onRetry?.(error, attempt);
      const ceiling = Math.min(5000, 250 * 2 ** (attempt - 1));
      await sleep(ceiling / 2 + (Math.random() * ceiling) / 2, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) throw error;
    }
  }
}
