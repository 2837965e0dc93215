import * as assert from 'assert';
import { checkGrafanaUrl, stageAnnotations, writeAnnotations } from '../../../../src/engine/outputs/grafana';
import type { RunSnapshot, StageSnapshot } from '../../../../src/protocol/snapshot';
import { startGrafanaMock, type MockGrafana } from '../../../support/grafanaApi.mock';

const stage = (name: string, startedAt: number | undefined, endedAt: number | undefined, verdict: StageSnapshot['verdict']) =>
  ({ name, title: name.toUpperCase(), startedAt, endedAt, verdict }) as StageSnapshot;

const snapshot = {
  runId: 'gr1',
  planName: 'nightly',
  startedAt: 1_000,
  now: 9_000,
  verdict: 'fail',
  reason: '1 threshold(s) failed',
  stages: [stage('prepare', 1_000, 2_000, 'pass'), stage('pty', 3_000, 6_000, 'fail'), stage('dashboard', undefined, undefined, 'skipped')],
} as RunSnapshot;

describe('--grafana-url: stage windows as Grafana annotations', () => {
  let grafana: MockGrafana;
  before(async () => (grafana = await startGrafanaMock('service-account-token')));
  after(() => grafana.close());

  it('writes one region per stage that ran and one for the run, tagged for the shipped dashboard', async () => {
    const written = await writeAnnotations({ url: grafana.url, token: 'service-account-token' }, stageAnnotations(snapshot));
    assert.strictEqual(written, 3);
    assert.deepStrictEqual(
      grafana.annotations.map((a) => [a.time, a.timeEnd, (a.tags as string[]).join(' ')]),
      [
        [1_000, 9_000, 'coder-scaletest run:gr1 run verdict:fail'],
        [1_000, 2_000, 'coder-scaletest run:gr1 stage:prepare verdict:pass'],
        [3_000, 6_000, 'coder-scaletest run:gr1 stage:pty verdict:fail'],
      ],
    );
    assert.match(String(grafana.annotations[2].text), /^PTY \(fail\) — run gr1/);
    assert.ok(grafana.annotations.every((a) => a.dashboardUID === undefined));
  });

  it('ties them to a dashboard when given one', () => {
    assert.ok(stageAnnotations(snapshot, 'coder-scaletest').every((a) => a.dashboardUID === 'coder-scaletest'));
  });

  it('says what is wrong with a refused token, without the token', async () => {
    await assert.rejects(writeAnnotations({ url: grafana.url, token: 'wrong-token-123' }, stageAnnotations(snapshot)), (error: Error) => {
      assert.match(error.message, /Grafana answered 401 .*annotations:write/);
      assert.ok(!error.message.includes('wrong-token-123'));
      return true;
    });
  });

  it('refuses a URL that is not http(s) or carries credentials, before the run', () => {
    assert.strictEqual(checkGrafanaUrl('https://grafana.example.com/'), 'https://grafana.example.com');
    assert.throws(() => checkGrafanaUrl('grafana'), /is not a URL/);
    assert.throws(() => checkGrafanaUrl('ftp://grafana'), /http:\/\/ or https:\/\//);
    assert.throws(() => checkGrafanaUrl('https://admin:pw@grafana'), /must not carry credentials/);
  });
});
