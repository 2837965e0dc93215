// The dashboard's Chromium is load, the runner's event loop is the stopwatch. On a small
// runner a browser rendering five pages can take every core for a moment, and every echo
// sent in that moment is measured late: the stopwatch must win. So the browser's process tree
// runs at a lower CPU priority (its own page timings absorb the difference, and a renderer
// started later inherits the priority from the zygote it is forked from). Linux only (/proc);
// elsewhere nothing changes.
import * as fs from 'fs';
import * as os from 'os';

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

/** Lowers the CPU priority of this process's Chromium trees; returns how many processes changed. */
export function deprioritizeBrowsers(niceness = 10): number {
  let changed = 0;
  for (const pid of browserProcessTree(process.pid, (command) => /chrom/i.test(command))) {
    try {
      os.setPriority(pid, niceness);
      changed++;
    } catch {
      // Gone already, or not ours to change: the run goes on at equal priority.
    }
  }
  return changed;
}
