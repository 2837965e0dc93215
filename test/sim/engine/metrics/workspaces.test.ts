// "Which workspace?": one workspace of four misbehaves (the simulator's workspaceFaults: its
// echoes come late and its connections of every kind are cut again and again) and the run names
// it first — in report.json, report.html, summary.md and the live snapshots — on worker threads
// and across shards alike, with the other three clean; every workspace's own figures add up to
// its stage's. (The shards run one worker thread each: four threads on a 2-core CI machine.)
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../../src/cli/main';
import type { RunReport } from '../../../../src/engine/outputs/report/report';
import type { Plan } from '../../../../src/engine/plan/plan';
import type { RunSnapshot } from '../../../../src/protocol/snapshot';
import { problemsOf } from '../../../../src/protocol/workspaces';
import type { SimDeployment } from '../../../../src/sim';
import { capture } from '../../../support/capture';
import { smallPlan, startTestSim, tempDir } from '../../../support/simRun';

const USERS = 4;
const SICK = 2;
const ECHO_DELAY_MS = 150;
/** The sick workspace's connections (every kind) are cut this long after each open. */
const DROP_AFTER_MS = 900;
const STAGES = ['ssh', 'pty', 'apps'] as const;

function plan(sim: SimDeployment, workers: number): Plan {
  const p = smallPlan(sim, { users: USERS, only: [...STAGES] });
  for (const stage of STAGES) p.timeline[stage] = [0, 4];
  p.workers = workers;
  return p;
}

/** The report's rows against its stages, and the sick workspace first everywhere. */
function checkReport(dir: string, report: RunReport): void {
  const sick = `scaletest-${report.runId}-${SICK}`;
  const rows = report.workspaces!;
  assert.deepStrictEqual(
    rows.map((row) => row.workspace),
    Array.from({ length: USERS }, (_, i) => `scaletest-${report.runId}-${i}`),
    'every workspace, in user order',
  );
  for (const row of rows) {
    assert.match(row.user, new RegExp(`^scaletest-[a-z0-9]{8}-${report.runId}$`));
    assert.ok(row.agent.length > 0, 'the agent is named');
    assert.ok(row.buildMs! > 0 && row.agentReadyMs! >= 0, `prepare timed ${row.workspace}`);
  }
  for (const name of STAGES) {
    const stage = report.stages.find((s) => s.name === name)!;
    const figures = rows.map((row) => row.stages[name]);
    assert.ok(
      figures.every((f) => f.connects >= 1 && f.bytesSent > 0 && f.rtt.count > 0),
      `${name}: every workspace connected and echoed: ${JSON.stringify(figures)} ${JSON.stringify(report.events.map((e) => e.message))}`,
    );
    // The per-workspace tallies count exactly what the stage counted (on two worker threads or shards).
    const sum = (read: (f: (typeof figures)[number]) => number) => figures.reduce((total, f) => total + read(f), 0);
    assert.strictEqual(
      sum((f) => f.bytesSent),
      stage.bytesSent,
      `${name} bytes sent`,
    );
    assert.strictEqual(
      sum((f) => f.bytesReceived),
      stage.bytesReceived,
      `${name} bytes received`,
    );
    assert.strictEqual(
      sum((f) => f.rtt.count),
      stage.latency.count,
      `${name} round trips`,
    );
    assert.strictEqual(
      sum((f) => f.disconnects),
      stage.disconnects,
      `${name} disconnects`,
    );
    assert.strictEqual(
      sum((f) => f.reconnects),
      stage.reconnects,
      `${name} reconnects`,
    );
    // Exact on this side; the stage's max is an HDR figure (3 significant digits once merged from shards).
    const slowest = Math.max(...figures.map((f) => f.rtt.max));
    assert.ok(
      Math.abs(slowest - stage.latency.max) <= stage.latency.max * 0.001,
      `${name}: the slowest round trip ${slowest} is a workspace's`,
    );
    // Named first in the final snapshot's worst list.
    const worst = report.snapshot.workspaces!.worst[name];
    assert.strictEqual(worst[0].workspace, sick, `${name}: ${JSON.stringify(worst.map((row) => [row.workspace, row.stages[name]]))}`);
    assert.ok(worst[0].stages[name].rtt.p95 >= ECHO_DELAY_MS, `${name}: the sick workspace's own p95 shows its delay`);
    // The sick workspace flapped in this stage; every other one is clean.
    const ofSick = rows[SICK].stages[name];
    assert.ok(ofSick.disconnects >= 1 && problemsOf(ofSick) > 0, `${name}: the sick workspace flapped: ${JSON.stringify(ofSick)}`);
    for (const row of rows.filter((r) => r.index !== SICK))
      assert.strictEqual(problemsOf(row.stages[name]), 0, `${name}: ${row.workspace} is clean: ${JSON.stringify(row.stages[name])}`);
  }

  // report.html: the first row of each stage's worst-workspaces table.
  const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
  for (const name of STAGES) {
    const table = new RegExp(`<table class="workspaces" data-stage="${name}">.*?<tr data-workspace="([^"]+)">`, 's').exec(html);
    assert.strictEqual(table?.[1], sick, `report.html ranks ${sick} first in ${name}`);
  }
  assert.match(html, new RegExp(`<summary>All ${USERS} workspaces`));
  // summary.md: the first row of each stage in "Worst workspaces".
  const markdown = fs.readFileSync(path.join(dir, 'summary.md'), 'utf8');
  const section = markdown.split('### Worst workspaces')[1]?.split('\n### ')[0] ?? '';
  for (const name of STAGES) {
    const title = report.stages.find((s) => s.name === name)!.title;
    const first = section.split('\n').find((line) => line.startsWith(`| ${title} |`));
    assert.ok(first?.includes(`\`${sick}\``), `summary.md names ${sick} first for ${title}: ${first}`);
  }
}

describe('which workspace? one sick workspace of four is named first', function () {
  this.timeout(120_000);
  let sim: SimDeployment;
  let dir: string;
  before(async () => {
    sim = await startTestSim();
    dir = tempDir();
  });
  beforeEach(() =>
    sim.setFaults({
      workspaceFaults: [
        { workspace: `scaletest-*-${SICK}`, echoDelayMs: ECHO_DELAY_MS },
        { workspace: `scaletest-*-${SICK}`, dropAfterMs: DROP_AFTER_MS },
      ],
    }),
  );
  after(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const runOf = async (name: string, workers: number, extra: string[]) => {
    const planFile = path.join(dir, `${name}.scaletest.json`);
    fs.writeFileSync(planFile, JSON.stringify(plan(sim, workers)));
    const out = path.join(dir, name);
    const summary = path.join(dir, `${name}.md`);
    const io = capture({ CODER_SESSION_TOKEN: sim.ownerToken });
    const code = await main(['run', planFile, '--url', sim.url, '--out', out, '--ndjson', '--summary', summary, ...extra], io);
    const [runId] = fs.readdirSync(out);
    const report = JSON.parse(fs.readFileSync(path.join(out, runId, 'report.json'), 'utf8')) as RunReport;
    assert.strictEqual(code, report.exitCode, io.err());
    assert.strictEqual(fs.readFileSync(summary, 'utf8'), fs.readFileSync(path.join(out, runId, 'summary.md'), 'utf8'));
    const snapshots = io
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunSnapshot);
    return { report, dir: path.join(out, runId), snapshots };
  };

  it('on two worker threads: report.json, report.html, summary.md and the live view', async () => {
    const { report, dir: reportDir, snapshots } = await runOf('workers', 2, []);
    checkReport(reportDir, report);
    // The live view ranked it too, before the end (snapshots are bounded: the worst few only).
    const live = snapshots.filter((snapshot) => snapshot.status === 'running' && snapshot.workspaces?.worst.pty);
    assert.ok(live.length > 0, 'live snapshots carried worst workspaces');
    assert.ok(live.every((snapshot) => Object.values(snapshot.workspaces!.worst).every((rows) => rows.length <= 10)));
    assert.strictEqual(live.at(-1)!.workspaces!.worst.pty[0].workspace, `scaletest-${report.runId}-${SICK}`);
  });

  it('across two shards: the merged report has every shard’s workspaces and the same one first', async () => {
    const { report, dir: reportDir } = await runOf('shards', 1, ['--shards', '2', '--local', '--start-delay', '15']);
    checkReport(reportDir, report);
  });
});
