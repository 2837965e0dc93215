// The simulated deployment's provisioner daemons, job queue, autostart and dynamic parameters,
// checked against what coderd does (docs/fidelity.md, "Provisioners, autostart, parameters").
import * as assert from 'assert';
import type WebSocket from 'ws';
import { dynamicParameters, watchWorkspace, type schemas as S } from '../../../src/coder';
import { memberClient, startFixture, uniqueName, type Fixture } from '../../support/simFixture';

async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`not reached: ${what}`);
}

async function workspaceOf(fx: Fixture) {
  const member = await memberClient(fx);
  const workspace = await fx.owner.createWorkspace(fx.sim.organizationId, member.username, {
    name: uniqueName('ws'),
    template_id: fx.sim.templateId,
  });
  return { ...member, workspace };
}

describe('simulated deployment: provisioner daemons and their queue', () => {
  let fx: Fixture;
  afterEach(async () => fx?.close());

  it('runs one job per daemon; the rest wait in FIFO order with coderd’s queue position and size', async () => {
    fx = await startFixture({ provisionerDaemons: 2, buildDurationMs: 600 });
    const first = await workspaceOf(fx);
    const second = await workspaceOf(fx);
    const third = await workspaceOf(fx);
    const fourth = await workspaceOf(fx);
    const running = await until(
      () => fx.owner.getBuild(second.workspace.latest_build.id),
      (b) => b.job.status === 'running',
      'second build running',
    );
    assert.strictEqual(running.job.queue_position, 0);
    const [third1, fourth1] = await Promise.all([
      fx.owner.getBuild(third.workspace.latest_build.id),
      fx.owner.getBuild(fourth.workspace.latest_build.id),
    ]);
    assert.deepStrictEqual([third1.job.status, third1.job.queue_position, third1.job.queue_size], ['pending', 1, 2]);
    assert.deepStrictEqual([fourth1.job.status, fourth1.job.queue_position, fourth1.job.queue_size], ['pending', 2, 2]);

    const daemons = await fx.owner.provisionerDaemons(fx.sim.organizationId);
    assert.deepStrictEqual(
      daemons.map((d) => d.status),
      ['busy', 'busy'],
    );
    assert.deepStrictEqual(await first.client.provisionerDaemons(fx.sim.organizationId), [], 'a member reads no daemons');
    const pending = await fx.owner.provisionerJobs(fx.sim.organizationId, { status: 'pending' });
    assert.deepStrictEqual(
      pending.map((job) => job.queue_position),
      [2, 1],
      'newest first, each with its global rank',
    );

    // The third build starts when a daemon frees up, before the fourth.
    const third2 = await until(
      () => fx.owner.getBuild(third.workspace.latest_build.id),
      (b) => b.job.status !== 'pending',
      'third build taken',
    );
    const fourth2 = await fx.owner.getBuild(fourth.workspace.latest_build.id);
    assert.ok(
      Date.parse(third2.job.started_at!) >= Date.parse((await fx.owner.getBuild(first.workspace.latest_build.id)).job.completed_at!) - 5,
    );
    assert.ok(fourth2.job.status === 'pending' || Date.parse(fourth2.job.started_at!) >= Date.parse(third2.job.started_at!));
    assert.ok(fx.sim.stats().provisionerJobs.peakPending >= 2);
  });

  it('stalledProvisioners: no daemon takes a job, so builds stay queued', async () => {
    fx = await startFixture({ provisionerDaemons: 2, faults: { stalledProvisioners: 2 } });
    const { workspace } = await workspaceOf(fx);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const build = await fx.owner.getBuild(workspace.latest_build.id);
    assert.deepStrictEqual([build.job.status, build.job.queue_position, build.job.queue_size], ['pending', 1, 1]);
    fx.sim.setFaults({});
    await until(
      () => fx.owner.getBuild(workspace.latest_build.id),
      (b) => b.job.status === 'succeeded',
      'taken once the daemons are back',
    );
  });

  it('draws build durations from the buildDuration distribution', async () => {
    fx = await startFixture({ faults: { buildDuration: { medianMs: 100, p95Ms: 400 } } });
    const builds = await Promise.all([1, 2, 3, 4, 5, 6].map(() => workspaceOf(fx)));
    const done = await Promise.all(builds.map((b) => fx.owner.waitForBuild(b.workspace.latest_build.id)));
    const durations = done.map((b) => Date.parse(b.job.completed_at!) - Date.parse(b.job.started_at!));
    assert.ok(new Set(durations).size > 1, `varied durations: ${durations.join(', ')}`);
  });
});

describe('simulated deployment: autostart', () => {
  let fx: Fixture;
  afterEach(async () => fx?.close());

  it('validates the schedule as coderd’s cron.Weekly does and shows it on the workspace', async () => {
    fx = await startFixture();
    const { client, workspace } = await workspaceOf(fx);
    for (const bad of ['30 9 1 * *', 'CRON_TZ=Nowhere/Land 30 9 * * *', '61 9 * * *', '9 * *']) {
      await assert.rejects(client.updateWorkspaceAutostart(workspace.id, bad), (error: Error & { status?: number }) => {
        assert.match(error.message, /Invalid autostart schedule/);
        return true;
      });
    }
    await client.updateWorkspaceAutostart(workspace.id, 'CRON_TZ=Europe/Berlin 30 9 * * 1-5');
    const read = (await client.getWorkspace(workspace.id)) as S.Workspace & { next_start_at: string };
    assert.strictEqual(read.autostart_schedule, 'CRON_TZ=Europe/Berlin 30 9 * * 1-5');
    const next = new Date(read.next_start_at);
    assert.strictEqual(
      new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(next),
      '09:30',
    );
    await client.updateWorkspaceAutostart(workspace.id, '');
    assert.strictEqual((await client.getWorkspace(workspace.id)).autostart_schedule, undefined);
  });

  it('starts a stopped workspace at the first tick at or after its scheduled minute, with reason autostart', async () => {
    fx = await startFixture();
    const { client, workspace } = await workspaceOf(fx);
    await client.waitForBuild(workspace.latest_build.id);
    const stop = await client.createBuild(workspace.id, { transition: 'stop' });
    await client.waitForBuild(stop.id);
    const minute = Math.floor(Date.now() / 60_000) * 60_000 + 120_000;
    const at = new Date(minute);
    await client.updateWorkspaceAutostart(workspace.id, `CRON_TZ=UTC ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`);
    assert.strictEqual(await fx.sim.runAutobuild(minute - 1), 0, 'not before the scheduled minute');
    assert.strictEqual(await fx.sim.runAutobuild(minute + 59_000), 1);
    const started = await client.getWorkspace(workspace.id);
    assert.deepStrictEqual([started.latest_build.transition, (started.latest_build as { reason?: string }).reason], ['start', 'autostart']);
    assert.strictEqual(await fx.sim.runAutobuild(minute + 60_000), 0, 'a start build is not started again');
  });

  it('skips the autostart while no provisioner has been seen for 90 s (coderd issue #17941)', async () => {
    fx = await startFixture({ faults: { stalledProvisioners: 50 } });
    const { client, workspace } = await workspaceOf(fx);
    fx.sim.setFaults({});
    await client.waitForBuild(workspace.latest_build.id);
    const stop = await client.createBuild(workspace.id, { transition: 'stop' });
    await client.waitForBuild(stop.id);
    fx.sim.setFaults({ stalledProvisioners: 50 });
    const minute = Math.floor(Date.now() / 60_000) * 60_000 + 60_000;
    const at = new Date(minute);
    await client.updateWorkspaceAutostart(workspace.id, `${at.getUTCMinutes()} ${at.getUTCHours()} * * *`);
    assert.strictEqual(await fx.sim.runAutobuild(minute + 120_000), 0, 'daemons last seen over 90 s before the tick');
    assert.strictEqual((await client.getWorkspace(workspace.id)).latest_build.transition, 'stop');
    fx.sim.setFaults({});
    assert.strictEqual(await fx.sim.runAutobuild(minute + 120_000), 1, 'started once a daemon heartbeats again');
  });
});

describe('simulated deployment: live updates and dynamic parameters', () => {
  let fx: Fixture;
  afterEach(async () => fx?.close());

  it('watch-ws: a ping first, then the workspace; workspaceEventDelayMs holds each change back', async () => {
    fx = await startFixture({ faults: { workspaceEventDelayMs: 400 } });
    const { client, workspace } = await workspaceOf(fx);
    await client.waitForBuild(workspace.latest_build.id);
    const frames: { type: string; at: number; build?: string }[] = [];
    const socket = await watchWorkspace({
      connection: client.connection,
      workspaceId: workspace.id,
      onFrame: (frame, at) => frames.push({ type: frame.type, at, build: (frame.data as S.Workspace | null)?.latest_build?.id }),
    });
    await until(
      () => frames.length,
      (n) => n >= 2,
      'initial frames',
    );
    assert.deepStrictEqual(
      frames.slice(0, 2).map((f) => f.type),
      ['ping', 'data'],
    );
    const sent = performance.now();
    const stop = await client.createBuild(workspace.id, { transition: 'stop' });
    const seen = await until(
      () => frames.find((f) => f.build === stop.id),
      (f) => f !== undefined,
      'the stop build seen',
    );
    assert.ok(seen!.at - sent >= 380, `seen after ${Math.round(seen!.at - sent)} ms`);
    socket.close();
  });

  it('renders the reference conditional parameters per request id; staleParameters answers from the previous inputs', async () => {
    fx = await startFixture();
    const { client } = await memberClient(fx);
    const template = await client.templates(fx.sim.organizationId);
    const frames: S.DynamicParametersResponse[] = [];
    const open = () =>
      dynamicParameters({
        connection: client.connection,
        templateVersionId: template[0]!.active_version_id!,
        onFrame: (frame) => frames.push(frame),
      });
    /** Opens the form, changes `zero` to B as the form does, and returns both frames. */
    const changeZero = async () => {
      frames.length = 0;
      const socket: WebSocket = await open();
      await until(
        () => frames.length,
        (n) => n >= 1,
        'initial form',
      );
      socket.send(JSON.stringify({ id: 1, inputs: { zero: 'B' } }));
      await until(
        () => frames.length,
        (n) => n >= 2,
        'change answered',
      );
      socket.close();
      return [frames[0]!, frames[1]!] as const;
    };
    const options = (frame: S.DynamicParametersResponse, name: string) =>
      frame.parameters!.find((p) => p.name === name)!.options!.map((o) => o.value.value);
    const [initial, changed] = await changeZero();
    assert.strictEqual(initial.id, -1);
    assert.deepStrictEqual(options(initial, 'One'), ['AA', 'AB']);
    assert.strictEqual(changed.id, 1);
    assert.deepStrictEqual(options(changed, 'One'), ['BA', 'BB']);
    assert.deepStrictEqual(options(changed, 'Three'), ['BAA', 'BAB']);

    fx.sim.setFaults({ staleParameters: 1 });
    const [, stale] = await changeZero();
    assert.strictEqual(stale.id, 1);
    assert.deepStrictEqual(options(stale, 'One'), ['AA', 'AB'], 'rendered from the inputs before');
  });
});
