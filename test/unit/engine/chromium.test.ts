import * as assert from 'assert';
import { ChromiumNotFoundError, findChromium } from '../../../src/engine/dashboardStage';

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
