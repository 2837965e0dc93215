import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { TlsOptions } from '../../../../../src/coder/connection';
import { ChromiumNotFoundError, chromiumTlsFlags, findChromium } from '../../../../../src/engine/stages/dashboard/chromium';
import { launchDashboardBrowser } from '../../../../../src/engine/stages/dashboard/runner';
import type { PreparedUser } from '../../../../../src/engine/prepare/prepare';
import { type SimDeployment, startSimDeployment } from '../../../../../src/sim';
import { makeSelfSignedCert, type SelfSignedCert } from '../../../../support/selfSignedCert';

describe('dashboard browser discovery', () => {
  it('a configured path that does not exist says how to get a browser', () => {
    assert.throws(
      () => findChromium('/nonexistent/chromium'),
      (error: Error) =>
        error instanceof ChromiumNotFoundError &&
        /Chromium not found at \/nonexistent\/chromium/.test(error.message) &&
        /apt-get install -y chromium/.test(error.message) &&
        /CODER_SCALETEST_CHROMIUM/.test(error.message),
    );
  });

  it('CODER_SCALETEST_CHROMIUM is honoured', () => {
    const saved = process.env.CODER_SCALETEST_CHROMIUM;
    process.env.CODER_SCALETEST_CHROMIUM = '/nonexistent/from-env';
    try {
      assert.throws(() => findChromium(), /Chromium not found at \/nonexistent\/from-env/);
    } finally {
      if (saved === undefined) delete process.env.CODER_SCALETEST_CHROMIUM;
      else process.env.CODER_SCALETEST_CHROMIUM = saved;
    }
  });
});

describe('dashboard browser against an HTTPS deployment', function () {
  this.timeout(60_000);
  let sim: SimDeployment;
  let cert: SelfSignedCert;

  before(async () => {
    cert = makeSelfSignedCert('dashboard-tls-');
    sim = await startSimDeployment({ tls: cert.serverTls, buildDurationMs: 50, agentConnectDelayMs: 10 });
  });
  after(async () => {
    await sim.close();
    fs.rmSync(cert.dir, { recursive: true, force: true });
  });

  /** Signs one user in (first visit to /) and returns the warnings the launch logged. */
  async function firstVisitWarnings(tls: TlsOptions | undefined): Promise<string[]> {
    const warnings: string[] = [];
    const user = { index: 0, userId: 'owner', username: 'owner', token: sim.ownerToken, workspaceName: 'none' } as PreparedUser;
    const browser = await launchDashboardBrowser({
      baseUrl: sim.url,
      tls,
      users: [user],
      maxBrowsers: 1,
      log: (_level, message) => warnings.push(message),
    });
    await browser.close();
    return warnings;
  }

  it('trusts the CA file like the API client does (public-key pin), and refuses an unknown certificate', async () => {
    assert.match(chromiumTlsFlags({ caFile: cert.certFile })[0]!, /^--ignore-certificate-errors-spki-list=[A-Za-z0-9+/]+=*$/);
    assert.deepStrictEqual(await firstVisitWarnings({ caFile: cert.certFile }), []);
    assert.deepStrictEqual(await firstVisitWarnings({ insecure: true }), []);
    const untrusted = await firstVisitWarnings(undefined);
    assert.strictEqual(untrusted.length, 1);
    assert.match(untrusted[0]!, /first visit to \/ failed: .*CERT/);
  });

  it('says when the CA file holds no certificate', () => {
    const empty = path.join(cert.dir, 'empty.pem');
    fs.writeFileSync(empty, 'not a certificate\n');
    assert.throws(() => chromiumTlsFlags({ caFile: empty }), /holds no PEM certificate/);
  });
});
