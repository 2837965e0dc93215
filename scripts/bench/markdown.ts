// The benchmark's Markdown table: each figure, what it is compared with in the same run, the
// issue's target, and whether it met it (or by how much it missed).
import { type BenchFigure, status } from './figures';

const NAMES: Record<string, string> = { pty: 'web terminal', apps: 'apps', ssh: 'SSH (direct)' };
const round1 = (value: number) => Math.round(value * 10) / 10;

/** One step of a capacity search (scripts/bench/main.ts): the issue's criterion and what explains a miss. */
export interface CapacityStep {
  connections: number;
  sendLagP99Ms: number;
  /** The median of the per-second p99s: one machine stall spoils a second, an overload all of them. */
  sendLagP99MedianSecondMs: number;
  echoRatio: number;
  mismatches: number;
  /** Cores used by the runner thread and by the echo target over the step. */
  runnerCores: number;
  targetCores: number;
  /** The runner's mark-compacts per second and its longest collection pause in the step (absent in older results). */
  majorGcPerSecond?: number;
  longestGcMs?: number;
  /** The machine's own noise over the window: a probe process's 10 ms timer lag p99 (absent in older results). */
  machineLagP99Ms?: number;
  /** That noise was high enough to call the machine busy (scripts/bench/main.ts, MACHINE_BUSY_LAG_MS). */
  machineBusy?: boolean;
  passed: boolean;
  /** How often a failed step that looked like a stall was run again (older results: true for once). */
  retried?: number | boolean;
}

/** Why a capacity search stopped: the failing step's lag and who used the cores. */
function capacityMiss(search: { tried: CapacityStep[] }): string {
  const failed = search.tried.find((step) => !step.passed);
  if (!failed) return '; no step failed';
  const gc =
    failed.majorGcPerSecond === undefined ? '' : `, ${failed.majorGcPerSecond} mark-compacts/s (longest GC ${failed.longestGcMs} ms)`;
  const machine =
    failed.machineLagP99Ms === undefined
      ? ''
      : `, the machine's own timer lag p99 ${failed.machineLagP99Ms} ms${failed.machineBusy ? " (busy: the miss is the machine's as much as the thread's)" : ''}`;
  return `; at ${failed.connections}: lag p99 ${failed.sendLagP99Ms} ms (median second ${failed.sendLagP99MedianSecondMs} ms), ${Math.round(failed.echoRatio * 100)} % echoed, runner ${failed.runnerCores} + target ${failed.targetCores} cores${gc}${machine}`;
}

export function markdown(r: Record<string, any>, lagBudgetMs: number, figures: Array<BenchFigure<any>> = []): string {
  const rows: string[] = [
    `# Benchmark ${r.date} on ${r.host} (${r.cpus} × ${r.cpuModel}, Node ${r.node})${r.smoke ? ' — smoke' : ''}`,
    '',
    r.load
      ? `Load average (1 min) ${r.load.startLoad1} at the start, ${r.load.endLoad1} at the end, ${r.load.maxLoad1} at most; ${r.load.seconds} s in all. ` +
        'On a shared machine (other work beside the bench), every figure is pessimistic.'
      : '',
    '',
    '| figure | engine | comparison (same run) | target | status |',
    '|---|---|---|---|---|',
  ];
  if (r.capacity?.idleTimerLag) {
    rows.push(
      `| this machine: timer lag of an idle Node loop (10 ms timers, no traffic), p99 / max | ${r.capacity.idleTimerLag.p99Ms} / ${r.capacity.idleTimerLag.maxMs} ms | | | the noise under every lag figure |`,
    );
  }
  for (const kind of ['pty', 'apps', 'ssh']) {
    const cap = r.capacity?.[kind];
    const target = kind === 'ssh' ? 1000 : 2000;
    if (!cap) continue;
    rows.push(
      `| ${NAMES[kind]}: conns with send lag p99 < ${lagBudgetMs} ms, 1024 B / 100 ms, 1 thread | ${cap.engine.connections} | floor ${cap.floor.connections} | ≥ ${target} per core | ${status(cap.engine.connections, target, true)}${capacityMiss(cap.engine)} |`,
    );
    rows.push(
      `| ${NAMES[kind]}: the same, per fully used core (last passing step ÷ the cores its thread used; an extrapolation) | ${cap.engine.perFullCore} | floor ${cap.floor.perFullCore} | ≥ ${target} | ${status(cap.engine.perFullCore, target, true)} |`,
    );
  }
  const gcText = (f: { gc?: { major: number; pauseMs: number }; seconds: number }) =>
    f.gc ? `; ${round1(f.gc.major / f.seconds)} mark-compacts/s, GC ${round1(f.gc.pauseMs / f.seconds)} ms/s` : '';
  const costs: Array<Record<string, any>> = r.costs ?? [];
  for (const c of costs) {
    rows.push(
      `| ${NAMES[c.kind]}: CPU s per 100k echoes @${c.connections} (send lag p99) | ${c.engine.cpuSecondsPer100kEchoes} (${c.engine.sendLagP99Ms} ms)${gcText(c.engine)} | floor ${c.floor.cpuSecondsPer100kEchoes} (${c.floor.sendLagP99Ms} ms)${gcText(c.floor)} (engine ${c.ratio}×) | ≤ 1.2× floor | ${status(c.ratio, 1.2, false, '×')} |`,
    );
  }
  for (const c of costs.filter((cost) => cost.bufferPath)) {
    const [now, b] = [c.runs.engine[0], c.bufferPath];
    rows.push(
      `| ${NAMES[c.kind]}: send path @${c.connections}: CPU s per 100k echoes, send lag p99 | ${c.kind === 'ssh' ? 'text into one reused buffer' : 'text'} (now): ${now.cpuSecondsPer100kEchoes}, ${now.sendLagP99Ms} ms${gcText(now)} | a Buffer per tick (before): ${b.cpuSecondsPer100kEchoes}, ${b.sendLagP99Ms} ms${gcText(b)} | | |`,
    );
  }
  for (const c of costs.filter((cost) => cost.bufferPath)) {
    const target = c.kind === 'ssh' ? undefined : 50;
    rows.push(
      `| ${NAMES[c.kind]}: RSS (heap + buffers) per connection | ${c.engine.rssPerConnectionKiB} (${c.engine.heapPerConnectionKiB}) KiB | floor ${c.floor.rssPerConnectionKiB} (${c.floor.heapPerConnectionKiB}) KiB | ${target ? `≤ ${target} KiB` : '—'} | ${target ? status(c.engine.rssPerConnectionKiB, target, false, ' KiB') : ''} |`,
    );
  }
  if (r.phases) {
    const { spread, lockstep, connections } = r.phases;
    rows.push(
      `| tick schedule at ${connections} web terminals: send lag p99, round trip p50 / p99 (ms) | phases spread: ${spread.sendLagP99Ms}, ${spread.rttP50Ms} / ${spread.rttP99Ms} | all in one phase (before): ${lockstep.sendLagP99Ms}, ${lockstep.rttP50Ms} / ${lockstep.rttP99Ms} | | |`,
    );
  }
  if (r.steadyRss) {
    // The first 10 s are the warm-up (buffers and pools filling); flat means no growth after it.
    const samples: number[] = r.steadyRss.samplesMiB;
    const settled = samples[Math.min(10, samples.length - 1)] ?? r.steadyRss.firstMiB;
    const growth = r.steadyRss.lastMiB - settled;
    rows.push(
      `| RSS over ${r.steadyRss.seconds} s at ${r.steadyRss.connections} web terminals | first ${r.steadyRss.firstMiB} MiB, at 10 s ${settled} MiB, last ${r.steadyRss.lastMiB} MiB, max ${r.steadyRss.maxMiB} MiB | | flat after the warm-up | ${Math.abs(growth) <= settled * 0.05 ? 'met (within 5 % of the 10 s figure)' : `grew ${Math.round(growth)} MiB after the warm-up`} |`,
    );
  }
  if (r.accuracy) {
    const a = r.accuracy;
    const worst = Math.max(...Object.values(a.errorPercent as Record<string, number>).map(Math.abs));
    const errors = (e: Record<string, number>) => `${e.p50} / ${e.p95} / ${e.p99}`;
    rows.push(
      `| accuracy at ${a.connections} conns: p50 / p95 / p99 (ms), error % vs the holds the target applied | ${a.reported.p50} / ${a.reported.p95} / ${a.reported.p99} (${errors(a.errorPercent)} %) | true ${a.true.p50} / ${a.true.p95} / ${a.true.p99}; floor ${a.floor ? `${a.floor.reported.p50} / ${a.floor.reported.p95} / ${a.floor.reported.p99} (${errors(a.floor.errorPercent)} % vs its own true ${a.floor.true.p50} / ${a.floor.true.p95} / ${a.floor.true.p99})` : 'not measured'} | within 1 % | ${status(worst, 1, false, ' %')} |`,
    );
  }
  if (r.snapshot) {
    const s = r.snapshot;
    rows.push(
      `| snapshot build at 6000 connections (3 echo stages), wall ms (CPU ms) | ${s.now.msPerSnapshot} ms (${s.now.cpuMsPerSnapshot} ms), ${s.now.bytes} B | previous: one walk through the library's methods ${s.previousOneWalk.msPerSnapshot} ms (${s.previousOneWalk.cpuMsPerSnapshot} ms); the library's getters ${s.previousLibraryGetters.msPerSnapshot} ms (${s.previousLibraryGetters.cpuMsPerSnapshot} ms) | < 5 ms | ${status(s.now.msPerSnapshot, 5, false, ' ms')} |`,
    );
  }
  if (r.prepare)
    rows.push(
      `| prepare rate against the simulator (${r.prepare.users} users, in-process sim) | ${r.prepare.workspacesPerSecond} workspaces/s | | | |`,
    );
  if (r.hostLag?.skipped) rows.push(`| extension host lag during a run | not measured: ${r.hostLag.skipped} | | < 20 ms | not measured |`);
  else if (r.hostLag) {
    rows.push(
      `| extension host lag p99 during a run (runner child, ${r.hostLag.connections} web terminals, ${r.hostLag.snapshots} snapshots relayed) | ${r.hostLag.lagP99Ms} ms (max ${r.hostLag.lagMaxMs} ms) | | < 20 ms | ${status(r.hostLag.lagP99Ms, 20, false, ' ms')} |`,
    );
  }
  if (r.dashboard) {
    const d = r.dashboard;
    rows.push(
      d.skipped
        ? `| Chromium per dashboard session | not measured: ${d.skipped} | | | |`
        : `| Chromium per dashboard session (${d.sessions} sessions, ${d.pageLoads} page loads, ${d.seconds} s) | ${d.pssMiBPerSession} MiB PSS, ${d.cpuPercentPerSession} % of a core | | | |`,
    );
  }
  if (r.vsix) {
    const v = r.vsix;
    rows.push(v.skipped ? `| VSIX size | not measured: ${v.skipped} | | | |` : `| VSIX size | ${v.vsixKiB} KiB | | | |`);
  }
  if (r.activation) {
    const a = r.activation;
    rows.push(
      a.skipped
        ? `| activation time in VS Code | not measured: ${a.skipped} | | | — |`
        : `| activation time in VS Code ${a.vscode} (code-server, ${a.bundle} bundle), median (max) of ${a.windows} fresh window${a.windows > 1 ? 's' : ''}${a.ours.loadMedianMs !== undefined ? '; of it, loading code and context' : ''} | ${a.ours.medianMs} ms (${a.ours.maxMs} ms)${a.ours.loadMedianMs !== undefined ? `; ${a.ours.loadMedianMs} ms` : ''} | empty extension ${a.empty.medianMs} ms (${a.empty.maxMs} ms)${a.empty.loadMedianMs !== undefined ? `; ${a.empty.loadMedianMs} ms` : ''} | | — |`,
    );
  }
  for (const figure of figures) {
    const result = r[figure.name];
    if (result === undefined) continue;
    rows.push(...figure.rows(result));
  }
  return rows.join('\n') + '\n';
}
