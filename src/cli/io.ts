// What every command gets and gives back: its input and output streams and its exit codes (the
// one table: EXIT_CODE_TABLE in engine/judge/outcome.ts, also in --help and the README).
import { EXIT_CODES } from '../engine/judge/outcome';
import type { Output } from './progress';

export const EXIT = {
  passed: EXIT_CODES.passed,
  failed: EXIT_CODES.failed,
  usage: EXIT_CODES.plan,
  access: EXIT_CODES.access,
  cleanup: EXIT_CODES.cleanup,
  runner: EXIT_CODES.runner,
  aborted: EXIT_CODES.aborted,
} as const;

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** Aborts a run (the CLI links it to Ctrl-C); tests pass their own. */
  signal?: AbortSignal;
}
