// The dashboard's Chromium is load, the runner's event loop is the stopwatch. On a small
// runner a browser starting and rendering five pages can take every core for seconds, and
// every echo sent meanwhile is measured late: the stopwatch must win. So the browser runs at a
// lower CPU priority, from its first instruction: it is started through `nice` (every process
// and thread it makes inherits the niceness; Linux keeps a niceness per THREAD, so renicing a
// running Chromium's main threads alone leaves its busy worker threads as they were). Its own
// page timings absorb the difference. Where there is no `nice`, the running tree's threads are
// reniced instead. Linux only (/proc); elsewhere nothing changes.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const BROWSER_NICENESS = 10;
const NICE = '/usr/bin/nice';

/**
 * An executable that starts `executablePath` at a lower CPU priority (a two-line shell script
 * in `dir`), or `executablePath` itself where that is not possible.
 */
export function nicedLauncher(executablePath: string, dir: string): string {
  if (process.platform !== 'linux' || !fs.existsSync(NICE)) return executablePath;
  const launcher = path.join(dir, 'chromium-niced');
  const quoted = `'${executablePath.replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(launcher, `#!/bin/sh\nexec ${NICE} -n ${BROWSER_NICENESS} ${quoted} "$@"\n`, { mode: 0o755 });
  return launcher;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  } catch {
    return '';
  }
}

/** Process ids of the subtrees under `rootPid` whose top process's command matches `isBrowser`. */
export function browserProcessTree(rootPid: number, isBrowser: (command: string) => boolean): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const tree: number[] = [];
  const visit = (pid: number) => {
    tree.push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  for (const child of children.get(rootPid) ?? []) if (isBrowser(commandOf(child))) visit(child);
  return tree;
}

/** The thread ids of a process (Linux: /proc/PID/task). */
function threadsOf(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [pid];
  }
}

/** Lowers the CPU priority of every thread of this process's Chromium trees; returns how many changed. */
export function deprioritizeBrowsers(niceness = BROWSER_NICENESS): number {
  let changed = 0;
  for (const pid of browserProcessTree(process.pid, (command) => /chrom|nice/i.test(command))) {
    for (const tid of threadsOf(pid)) {
      try {
        if (os.getPriority(tid) >= niceness) continue;
        os.setPriority(tid, niceness);
        changed++;
      } catch {
        // Gone already, or not ours to change: the run goes on at equal priority.
      }
    }
  }
  return changed;
}
