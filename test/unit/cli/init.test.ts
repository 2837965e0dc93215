import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { parsePlanText } from '../../../src/engine/plan/plan';
import { capture } from '../../support/capture';

describe('coder-scaletest init', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scaletest-init-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the default plan, and with --search a valid capacity-search plan', async () => {
    const fixed = path.join(dir, 'fixed.scaletest.json');
    const searched = path.join(dir, 'search.scaletest.json');
    assert.strictEqual(await main(['init', fixed], capture({})), 0);
    assert.strictEqual(await main(['init', searched, '--search'], capture({})), 0);
    assert.strictEqual(parsePlanText(fs.readFileSync(fixed, 'utf8')).search, undefined);
    const plan = parsePlanText(fs.readFileSync(searched, 'utf8'));
    assert.deepStrictEqual([plan.search?.from, plan.search?.to, plan.search?.step, plan.users], [100, 2000, 'double', 2000]);
    const io = capture({});
    assert.strictEqual(await main(['init', searched, '--search'], io), 2, 'an existing file needs --force');
    assert.match(io.err(), /already exists; pass --force/);
  });
});
