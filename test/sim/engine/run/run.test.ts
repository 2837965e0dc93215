import * as assert from 'assert';
import { allStages } from '../../../../src/engine/stages/registry';
import { getEventListeners } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { CoderClient } from '../../../../src/coder/client';
import { decodeLatency } from '../../../../src/engine/metrics/stageMetrics';
import { readReport } from '../../../../src/engine/outputs/report/report';
import { startRun, type RunEvent, type RunHandle } from '../../../../src/engine/run/run';
import type { RunSnapshot, StageName } from '../../../../src/protocol/snapshot';
import { chartSpecs } from '../../../../webview/chartSpecs';
import { leftovers, smallPlan, useSimAndOutDir, withReportPage } from '../../../support/simRun';

/** Coder session tokens look like `<10-char id>-<22-char secret>`. */
const TOKEN_SHAPE = /[A-Za-z0-9]{10}-[A-Za-z0-9]{22}/;

describe('engine run against the simulated deployment', function () {
  this.timeout(90_000);
  const env = useSimAndOutDir();

  it('the default plan, scaled down, passes through all six stages and writes reports without secrets', async () => {
    const snapshots: RunSnapshot[] = [];
    const events: RunEvent[] = [];
    const handle = startRun({
      plan: smallPlan(env.sim, { users: 2, dashboard: true }),
      connection: { url: env.sim.url, token: env.sim.ownerToken },
      outDir: env.out,
      log: (event) => events.push(event),
    });
    handle.subscribe((snapshot) => snapshots.push(snapshot));
    const result = await handle.done;
    const failing = result.snapshot.thresholds.filter((t) => t.verdict === 'fail').map((t) => `${t.expression}: ${t.reason}`);
    assert.deepStrictEqual(failing, [], `events:\n${events.map((e) => e.message).join('\n')}`);
    assert.strictEqual(result.verdict, 'pass');
    assert.strictEqual(result.exitCode, 0);
    const stage = (name: StageName) => result.snapshot.stages.find((s) => s.name === name)!;
    for (const name of ['prepare', 'ssh', 'pty', 'apps', 'dashboard', 'cleanup'] as StageName[]) {
      assert.strictEqual(stage(name).verdict, 'pass', `${name}: ${stage(name).reason}`);
    }
    for (const name of ['ssh', 'pty', 'apps'] as StageName[]) {
      const s = stage(name);
      assert.ok(s.completed >= 10, `${name} completed ${s.completed}`);
      assert.strictEqual(s.completed, s.expected, `${name}: every scheduled tick echoed`);
      assert.ok(s.latency.p95 > 0);
    }
    assert.ok(stage('dashboard').completed >= 1, 'dashboard pages visited');
    assert.deepStrictEqual(result.cleanup, { deletedWorkspaces: 2, deletedUsers: 2, leftovers: [] });
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });

    // Complete snapshots, about once a second, with history.
    assert.ok(snapshots.length >= 6, `${snapshots.length} snapshots`);
    // Every registered stage in every snapshot (opt-in stages the default plan leaves off included).
    for (const snapshot of snapshots) assert.strictEqual(snapshot.stages.length, allStages().length);
    assert.ok(result.snapshot.history.length >= 5);

    // Reports: JSON (readable), JUnit (a case per stage and threshold), HTML with chart.js inlined.
    const report = readReport(result.reportDir);
    assert.strictEqual(report.verdict, 'pass');
    assert.strictEqual(
      decodeLatency(report.histograms.stages.pty!).count,
      stage('pty').latency.count,
      'the encoded histogram holds every round trip',
    );
    assert.strictEqual(decodeLatency(report.histograms.api.total).p95, result.snapshot.api.total.latency.p95);
    const junit = fs.readFileSync(path.join(result.reportDir, 'junit.xml'), 'utf8');
    assert.strictEqual((junit.match(/<testcase /g) ?? []).length, result.snapshot.stages.length + result.snapshot.thresholds.length);
    assert.ok(!junit.includes('<failure'));
    const html = fs.readFileSync(path.join(result.reportDir, 'report.html'), 'utf8');
    assert.match(html, /Chart\.js v4/);
    assert.ok(!/<script src=/.test(html), 'self-contained');

    // The HTML report draws its charts offline, from the one file.
    const charts = await withReportPage(result.reportDir, (page) =>
      page.evaluate(() =>
        Array.from(document.querySelectorAll('#charts figure[data-chart]'))
          .filter((figure) =>
            (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): unknown } }).Chart.getChart(figure.querySelector('canvas')!),
          )
          .map((figure) => figure.getAttribute('data-chart')),
      ),
    );
    // The dashboard's chart set, from the same module: a round-trip chart per stage, then the shared ones.
    assert.deepStrictEqual(
      charts,
      chartSpecs(result.snapshot).map((spec) => spec.id),
    );
    assert.deepStrictEqual(charts, ['rtt:ssh', 'rtt:pty', 'rtt:apps', 'rtt:dashboard', 'connections', 'throughput', 'errors', 'api']);

    for (const file of ['report.json', 'junit.xml', 'report.html']) {
      const text = fs.readFileSync(path.join(result.reportDir, file), 'utf8');
      assert.ok(!text.includes(env.sim.ownerToken), `${file} contains the owner token`);
      assert.ok(!TOKEN_SHAPE.test(text.replace(/<script>[\s\S]*?<\/script>/, '')), `${file} contains a session token`);
      assert.ok(!/aA1!/.test(text), `${file} contains a generated password`);
    }
    assert.ok(!events.some((e) => e.message.includes(env.sim.ownerToken) || TOKEN_SHAPE.test(e.message)), 'no token in events');
  });

  describe('an abort in the middle of a stage leaves no user or workspace behind', () => {
    const cases: Array<{ stage: StageName; trigger: RegExp; dashboard?: boolean }> = [
      { stage: 'prepare', trigger: /creating 3 users/ },
      { stage: 'ssh', trigger: /SSH stage started/ },
      { stage: 'pty', trigger: /Web terminal stage started/ },
      { stage: 'apps', trigger: /Workspace apps stage started/ },
      { stage: 'dashboard', trigger: /Dashboard stage started/, dashboard: true },
    ];
    for (const { stage, trigger, dashboard } of cases) {
      it(`during ${stage}`, async () => {
        const handle: RunHandle = startRun({
          plan: smallPlan(env.sim, { users: 3, dashboard }),
          connection: { url: env.sim.url, token: env.sim.ownerToken },
          outDir: env.out,
          log: (event) => {
            if (trigger.test(event.message)) setTimeout(() => handle!.abort('test abort'), 300);
          },
        });
        const result = await handle.done;
        assert.strictEqual(result.exitCode, 130);
        assert.strictEqual(result.snapshot.status, 'aborted');
        const stageSnapshot = result.snapshot.stages.find((s) => s.name === stage)!;
        assert.ok(stageSnapshot.startedAt, `${stage} had started`);
        assert.ok(fs.existsSync(path.join(result.reportDir, 'report.json')), 'partial report written');
        assert.deepStrictEqual(result.cleanup.leftovers, []);
        assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
      });
    }
  });

  it('keeps the history bounded and in time order however many snapshots a run publishes', async () => {
    // Thousands of snapshots on an idle machine; a loaded one publishes fewer, so the bound is
    // judged on what was published (the recorder's own spacing is tested in runParts).
    const plan = smallPlan(env.sim, { users: 1, only: ['ssh'], slotSeconds: 2 });
    let published = 0;
    const handle = startRun({ plan, connection: { url: env.sim.url, token: env.sim.ownerToken }, outDir: env.out, snapshotIntervalMs: 3 });
    handle.subscribe(() => published++);
    const { snapshot } = await handle.done;
    assert.ok(snapshot.history.length <= 600, `${snapshot.history.length} points of ${published} snapshots`);
    const floor = published > 600 ? 300 : Math.floor(published / 2);
    assert.ok(snapshot.history.length >= floor, `${snapshot.history.length} points of ${published} snapshots`);
    const gaps = snapshot.history.slice(1).map((point, i) => point.t - snapshot.history[i].t);
    assert.ok(
      gaps.every((gap) => gap > 0),
      'in time order',
    );
  });

  describe('deployment access', () => {
    it('wrong URL: unreachable, exit code 3', async () => {
      const result = await startRun({
        plan: smallPlan(env.sim),
        connection: { url: 'http://127.0.0.1:1', token: env.sim.ownerToken },
        outDir: env.out,
      }).done;
      assert.strictEqual(result.exitCode, 3);
      assert.match(result.snapshot.reason!, /Cannot reach the Coder deployment at http:\/\/127\.0\.0\.1:1/);
    });

    it('wrong token: rejected, exit code 3', async () => {
      const result = await startRun({
        plan: smallPlan(env.sim),
        connection: { url: env.sim.url, token: 'AAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBB' },
        outDir: env.out,
      }).done;
      assert.strictEqual(result.exitCode, 3);
      assert.match(result.snapshot.reason!, /rejected the session token \(401/);
      assert.ok(!result.snapshot.reason!.includes('BBBBBBBBBB'), 'the token is not echoed');
    });

    it('non-owner: says the Owner role is needed, exit code 3', async () => {
      const owner = new CoderClient({ url: env.sim.url, token: env.sim.ownerToken });
      const org = (await owner.organizations())[0];
      await owner.createUser({
        email: 'member@example.com',
        username: 'member',
        password: 'SomePassw0rd!x',
        login_type: 'password',
        organization_ids: [org.id],
      });
      const memberToken = await owner.login('member@example.com', 'SomePassw0rd!x');
      owner.close();
      const result = await startRun({ plan: smallPlan(env.sim), connection: { url: env.sim.url, token: memberToken }, outDir: env.out })
        .done;
      assert.strictEqual(result.exitCode, 3);
      assert.match(result.snapshot.reason!, /lacks the owner role.*needs the Owner role/);
    });
  });

  it('a signal aborted before the start aborts the run at once: no users, no traffic, exit 130', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await startRun({
      plan: smallPlan(env.sim, { users: 1, only: ['ssh'] }),
      connection: { url: env.sim.url, token: env.sim.ownerToken },
      outDir: env.out,
      signal: controller.signal,
    }).done;
    assert.strictEqual(result.exitCode, 130);
    assert.strictEqual(result.snapshot.status, 'aborted');
    const stage = (name: StageName) => result.snapshot.stages.find((s) => s.name === name)!;
    assert.strictEqual(stage('prepare').progress?.done ?? 0, 0);
    assert.strictEqual(stage('ssh').state, 'skipped');
    assert.strictEqual(env.sim.stats().users, 1, 'only the owner');
  });

  it("lets go of the caller's signal when done; a later abort changes nothing", async () => {
    const controller = new AbortController();
    const handle = startRun({
      plan: smallPlan(env.sim, { users: 1, only: ['ssh'] }),
      connection: { url: env.sim.url, token: env.sim.ownerToken },
      outDir: env.out,
      signal: controller.signal,
    });
    assert.strictEqual(getEventListeners(controller.signal, 'abort').length, 1);
    const result = await handle.done;
    assert.strictEqual(getEventListeners(controller.signal, 'abort').length, 0);
    controller.abort();
    handle.abort();
    assert.strictEqual(result.exitCode, 0);
    assert.strictEqual(handle.latest().status, 'finished');
    assert.strictEqual(handle.latest().reason, result.snapshot.reason);
  });
});
