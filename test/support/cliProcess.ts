// The built CLI (dist/cli.js) in a process of its own, so real signals reach it: its output
// kept, waited on by pattern, its end awaited. Used by the fault matrix and the k8s tests.
import { type ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import type { SimDeployment } from '../../src/sim';

export const CLI = path.resolve(__dirname, '../../dist/cli.js');

export interface CliRun {
  child: ChildProcess;
  /** Resolves when the combined output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
  output(): string;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  runId?: string;
}

export function runCli(args: string[], sim: SimDeployment, extraEnv: NodeJS.ProcessEnv = {}, wrapper: string[] = []): CliRun {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CODER_URL: sim.url,
    CODER_SESSION_TOKEN: sim.ownerToken,
    NO_COLOR: '1',
    ...extraEnv,
  };
  const [command, ...rest] = [...wrapper, process.execPath, CLI, ...args];
  const child = spawn(command!, rest, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve(): void }> = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(stdout + stderr)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (text: string) => ((stdout += text), check()));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => ((stderr += text), check()));
  const done = new Promise<CliResult>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, runId: /run (\w+) of "/.exec(stdout + stderr)?.[1] })),
  );
  return {
    child,
    done,
    output: () => stdout + stderr,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output so far:\n${stdout}${stderr}`)),
          timeoutMs,
        );
        const closed = () => reject(new Error(`the CLI ended before ${pattern}; output:\n${stdout}${stderr}`));
        done.then(closed, closed);
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        check();
      }),
  };
}
