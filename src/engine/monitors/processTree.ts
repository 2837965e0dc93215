// The runner's child processes — one `coder ssh --stdio` per SSH connection on the CLI path,
// Chromium and its renderers for the dashboard stage — in its CPU and memory figures: a runner
// whose own thread idles at 5 % while 192 CLI children take both cores is overloaded, and its
// latencies are the machine's, not the deployment's.
//
// Linux reads /proc: the runner's threads' `children` files name its direct children every
// sample (a CLI process is one), a scan of every /proc/<pid>/stat finds their descendants every
// few samples (Chromium's renderers), and each counted process's /proc/<pid>/stat gives its CPU
// ticks and resident pages; its command line, read once and off the event loop, its kind.
// Files are opened, read into one buffer and closed (readFileSync stats and grows buffers: ~4×
// slower on procfs); no process is spawned and no descriptor is kept (a runner with 300 CLI
// children already holds 900 pipes). npm's pidusage reads the same
// stat files on Linux but cannot list descendants, and pidtree spawns `ps` on every call.
// macOS: one `ps` per sample, its answer used at the next. Elsewhere children are not counted,
// and the figure says so. Processes the caller declares foreign (the demo's simulated
// deployment, which the demo process forks) are left out with their descendants.
import { execFile } from 'child_process';
import * as fs from 'fs';
import { performance } from 'perf_hooks';

export type ChildKind = 'coder CLI' | 'Chromium' | 'other';

export interface ChildKindFigures {
  kind: ChildKind;
  count: number;
  /** CPU over the last interval, % of one core (two busy cores: 200). */
  cpuPercent: number;
  rssBytes: number;
}

export interface ChildProcessFigures {
  count: number;
  cpuPercent: number;
  /** Resident memory, summed (pages shared between processes count in each). */
  rssBytes: number;
  kinds: ChildKindFigures[];
}

export type ChildSample = ChildProcessFigures | { unavailable: string };

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, clock ticks. */
  ticks: number;
  /** Since boot, clock ticks: with the pid, a process's identity. */
  startTicks: number;
  rssPages: number;
}

/** Linux's USER_HZ for /proc figures: 100 on every mainstream architecture. */
const TICKS_PER_SECOND = 100;
/** Descendants below the direct children (Chromium's renderers) are looked for every this many samples. */
const DESCENDANT_SCAN_EVERY = 5;
const STAT_BUFFER = Buffer.alloc(1024);

function readSmall(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const length = fs.readSync(fd, STAT_BUFFER, 0, STAT_BUFFER.length, 0);
    return STAT_BUFFER.toString('latin1', 0, length);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** /proc/<pid>/stat's fields after the command name (which may hold spaces and parentheses). */
export function parseProcStat(pid: number, text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is the state (field 3 of proc(5)): ppid is 4, utime 14, stime 15, starttime 22, rss 24.
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  const startTicks = Number(fields[19]);
  const rssPages = Number(fields[21]);
  if (![ppid, ticks, startTicks, rssPages].every(Number.isFinite)) return undefined;
  return { pid, ppid, ticks, startTicks, rssPages };
}

/** What a process is, from its command line. */
export function classifyCommand(commandLine: string): ChildKind {
  if (/chrom/i.test(commandLine)) return 'Chromium';
  // `coder ssh --stdio <target>`, or the simulator's CLI under node: `node …/coder-linux-amd64 ssh --stdio …`.
  if (/\sssh\s(.*\s)?--stdio(\s|$)/.test(commandLine)) return 'coder CLI';
  return 'other';
}

/** Samples the runner process's descendants; one instance per runner, `sample()` once per interval. */
export class ProcessTreeSampler {
  private readonly root: number;
  private readonly platform: NodeJS.Platform;
  private readonly foreign: () => readonly number[];
  private previous = new Map<string, number>();
  private lastAt = performance.now();
  private lastBootTicks?: number;
  private samples = 0;
  private descendants = new Set<number>();
  private readonly kinds = new Map<string, ChildKind>();
  private readonly classifying = new Set<string>();
  private pageSize?: number;
  private darwinLatest?: ChildSample;
  private darwinPending = false;

  constructor(options: { rootPid?: number; foreignPids?: () => readonly number[]; platform?: NodeJS.Platform } = {}) {
    this.root = options.rootPid ?? process.pid;
    this.foreign = options.foreignPids ?? (() => []);
    this.platform = options.platform ?? process.platform;
  }

  sample(): ChildSample {
    if (this.platform === 'linux') return this.sampleLinux();
    if (this.platform === 'darwin') return this.sampleDarwin();
    return { unavailable: `child processes are not counted on ${this.platform}` };
  }

  private sampleLinux(): ChildSample {
    const now = performance.now();
    const elapsedSeconds = Math.max(0.001, (now - this.lastAt) / 1000);
    this.lastAt = now;
    const foreign = new Set(this.foreign());
    const direct = this.directChildren().filter((pid) => !foreign.has(pid));
    if (this.samples++ % DESCENDANT_SCAN_EVERY === 0) this.descendants = this.scanDescendants(new Set(direct), foreign);
    const bootTicks = this.bootTicks();
    const current = new Map<string, number>();
    const byKind = new Map<ChildKind, ChildKindFigures>();
    for (const pid of new Set([...direct, ...this.descendants])) {
      const text = readSmall(`/proc/${pid}/stat`);
      const stat = text === undefined ? undefined : parseProcStat(pid, text);
      if (!stat) continue;
      const key = `${pid}:${stat.startTicks}`;
      current.set(key, stat.ticks);
      const before = this.previous.get(key);
      // A process first seen now counts all of its CPU when it started during the interval.
      const startedSince = this.lastBootTicks !== undefined && stat.startTicks >= this.lastBootTicks;
      const ticks = before !== undefined ? stat.ticks - before : startedSince ? stat.ticks : 0;
      const kind = this.kindOf(pid, key);
      const figures = byKind.get(kind) ?? { kind, count: 0, cpuPercent: 0, rssBytes: 0 };
      figures.count++;
      figures.cpuPercent += (Math.max(0, ticks) / TICKS_PER_SECOND / elapsedSeconds) * 100;
      figures.rssBytes += stat.rssPages * this.pageBytes();
      byKind.set(kind, figures);
    }
    this.previous = current;
    this.lastBootTicks = bootTicks;
    for (const key of this.kinds.keys()) if (!current.has(key)) this.kinds.delete(key);
    return totals([...byKind.values()]);
  }

  /** The runner's direct children: every thread's `children` file (worker threads spawn too). */
  private directChildren(): number[] {
    let threads: string[];
    try {
      threads = fs.readdirSync(`/proc/${this.root}/task`);
    } catch {
      return [];
    }
    const pids: number[] = [];
    for (const tid of threads) {
      const text = readSmall(`/proc/${this.root}/task/${tid}/children`);
      if (text) for (const pid of text.split(' ')) if (pid.trim()) pids.push(Number(pid));
    }
    return pids;
  }

  /** Every process below the direct children (not the direct children themselves), foreign subtrees left out. */
  private scanDescendants(direct: Set<number>, foreign: Set<number>): Set<number> {
    const children = new Map<number, number[]>();
    let entries: string[];
    try {
      entries = fs.readdirSync('/proc');
    } catch {
      return new Set();
    }
    for (const entry of entries) {
      const first = entry.charCodeAt(0);
      if (first < 48 || first > 57) continue;
      const pid = Number(entry);
      const text = readSmall(`/proc/${entry}/stat`);
      const stat = text === undefined ? undefined : parseProcStat(pid, text);
      if (!stat) continue;
      const siblings = children.get(stat.ppid) ?? [];
      siblings.push(pid);
      children.set(stat.ppid, siblings);
    }
    const found = new Set<number>();
    const walk = (pid: number) => {
      for (const child of children.get(pid) ?? []) {
        if (foreign.has(child) || found.has(child)) continue;
        found.add(child);
        walk(child);
      }
    };
    for (const pid of direct) walk(pid);
    return found;
  }

  /**
   * A process's kind, from its command line. Reading /proc/<pid>/cmdline takes the process's
   * memory-map lock, which a process starting on a starved machine can hold for a long time
   * (296 ms once, among 200 CLI processes starting on two cores): the runner's loop — the
   * stopwatch — must not wait for it, so it is read off the loop, and until it is known the
   * process counts by its name (/proc/<pid>/comm, which takes no such lock): Chromium by its
   * name, anything else as 'other' for that one sample.
   */
  private kindOf(pid: number, key: string): ChildKind {
    const known = this.kinds.get(key);
    if (known) return known;
    if (!this.classifying.has(key)) {
      this.classifying.add(key);
      fs.readFile(`/proc/${pid}/cmdline`, 'latin1', (error, text) => {
        this.classifying.delete(key);
        // A process gone meanwhile is dropped from the cache at the next sample.
        if (!error) this.kinds.set(key, classifyCommand(text.split('\0').join(' ')));
      });
    }
    return classifyCommand(readSmall(`/proc/${pid}/comm`) ?? '');
  }

  /** Clock ticks since boot, now (from /proc/uptime). */
  private bootTicks(): number | undefined {
    const text = readSmall('/proc/uptime');
    const seconds = text ? Number(text.split(' ')[0]) : NaN;
    return Number.isFinite(seconds) ? Math.floor(seconds * TICKS_PER_SECOND) : undefined;
  }

  /** The page size, from this process's resident pages against its RSS (Node does not expose it). */
  private pageBytes(): number {
    if (this.pageSize === undefined) {
      const pages = Number((readSmall('/proc/self/statm') ?? '').split(' ')[1]);
      const estimate = pages > 0 ? process.memoryUsage().rss / pages : 4096;
      this.pageSize = 2 ** Math.round(Math.log2(estimate));
    }
    return this.pageSize;
  }

  /** `ps` answers asynchronously: each sample returns the previous answer and asks again. */
  private sampleDarwin(): ChildSample {
    if (!this.darwinPending) {
      this.darwinPending = true;
      execFile('ps', ['-A', '-o', 'pid=,ppid=,rss=,time=,command='], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
        this.darwinPending = false;
        this.darwinLatest = error ? { unavailable: `ps failed: ${error.message}` } : this.fromPs(stdout);
      });
    }
    return this.darwinLatest ?? totals([]);
  }

  private fromPs(output: string): ChildSample {
    const now = performance.now();
    const elapsedSeconds = Math.max(0.001, (now - this.lastAt) / 1000);
    this.lastAt = now;
    const rows = output
      .split('\n')
      .map((line) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), rssKiB: Number(m[3]), cpuSeconds: psTime(m[4]), command: m[5] }));
    const foreign = new Set(this.foreign());
    const byParent = new Map<number, typeof rows>();
    for (const row of rows) byParent.set(row.ppid, [...(byParent.get(row.ppid) ?? []), row]);
    const current = new Map<string, number>();
    const byKind = new Map<ChildKind, ChildKindFigures>();
    const visit = (pid: number) => {
      for (const row of byParent.get(pid) ?? []) {
        if (foreign.has(row.pid)) continue;
        const key = `${row.pid}:${row.command}`;
        current.set(key, row.cpuSeconds);
        const before = this.previous.get(key);
        const kind = classifyCommand(row.command);
        const figures = byKind.get(kind) ?? { kind, count: 0, cpuPercent: 0, rssBytes: 0 };
        figures.count++;
        figures.cpuPercent += before === undefined ? 0 : (Math.max(0, row.cpuSeconds - before) / elapsedSeconds) * 100;
        figures.rssBytes += row.rssKiB * 1024;
        byKind.set(kind, figures);
        visit(row.pid);
      }
    };
    visit(this.root);
    this.previous = current;
    return totals([...byKind.values()]);
  }
}

/** `ps`'s cumulative CPU time: `[[dd-]hh:]mm:ss.cc`. */
function psTime(text: string): number {
  const [days, rest] = text.includes('-') ? [Number(text.split('-')[0]), text.split('-')[1]] : [0, text];
  return rest
    .split(':')
    .map(Number)
    .reduce((total, part) => total * 60 + part, days * 24);
}

function totals(kinds: ChildKindFigures[]): ChildProcessFigures {
  const rounded = kinds
    .map((k) => ({ ...k, cpuPercent: Math.round(k.cpuPercent * 10) / 10 }))
    .sort((a, b) => b.cpuPercent - a.cpuPercent || b.rssBytes - a.rssBytes);
  return {
    count: rounded.reduce((sum, k) => sum + k.count, 0),
    cpuPercent: Math.round(rounded.reduce((sum, k) => sum + k.cpuPercent, 0) * 10) / 10,
    rssBytes: rounded.reduce((sum, k) => sum + k.rssBytes, 0),
    kinds: rounded,
  };
}
