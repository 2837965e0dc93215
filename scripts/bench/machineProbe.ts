// The machine's own noise while a capacity step runs: a small process beside the bench that
// does nothing but wait on 10 ms timers and note how late each fires. On a quiet machine that
// lateness stays well under a millisecond; when other processes hold the cores it grows, and a
// capacity step that missed its lag budget then says more about the machine than the thread.
import { spawn } from 'child_process';
import * as readline from 'readline';

const PROBE = `
let lags = [];
const wait = () => {
  const due = performance.now() + 10;
  setTimeout(() => { lags.push(performance.now() - due); wait(); }, 10);
};
wait();
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'reset') { lags = []; return; }
  lags.sort((a, b) => a - b);
  const p99 = lags.length ? lags[Math.min(lags.length - 1, Math.ceil(lags.length * 0.99) - 1)] : 0;
  process.stdout.write(JSON.stringify({ p99, count: lags.length }) + '\\n');
});
process.stdin.on('end', () => process.exit(0));
`;

export interface MachineProbe {
  /** Starts a new window. */
  reset(): void;
  /** The timer lag p99 (ms) since the last reset. */
  read(): Promise<number>;
  stop(): void;
}

export function startMachineProbe(): MachineProbe {
  const child = spawn(process.execPath, ['-e', PROBE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers: Array<(line: string) => void> = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => answers.shift()?.(line));
  return {
    reset: () => child.stdin.write('reset\n'),
    read: () =>
      new Promise<number>((resolve) => {
        answers.push((line) => resolve(Math.round((JSON.parse(line) as { p99: number }).p99 * 100) / 100));
        child.stdin.write('read\n');
      }),
    stop: () => child.stdin.end(),
  };
}
