// A CliIo that keeps what the CLI writes, for tests that call main() in-process.
import type { CliIo } from '../../src/cli/main';

export function capture(env: NodeJS.ProcessEnv = {}, signal?: AbortSignal): CliIo & { out(): string; err(): string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => void (out += text), isTTY: false },
    stderr: { write: (text: string) => void (err += text), isTTY: false },
    env,
    signal,
    out: () => out,
    err: () => err,
  };
}
