// What every command gets and gives back: its input and output streams and its exit codes.
// Exit codes: 0 passed, 1 thresholds or cleanup failed, 2 bad usage or invalid plan, 3 deployment
// unreachable or authentication failed, 130 stopped by a signal (SIGINT, SIGTERM, SIGHUP).
import { ABORTED_EXIT } from './interrupts';
import type { Output } from './progress';

export const EXIT = { passed: 0, failed: 1, usage: 2, access: 3, aborted: ABORTED_EXIT } as const;

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** Aborts a run (the CLI links it to Ctrl-C); tests pass their own. */
  signal?: AbortSignal;
}
