import * as assert from 'assert';
import { STAGE_TITLES } from '../../src/protocol/snapshot';

describe('protocol', () => {
  it('names every stage', () => {
    assert.deepStrictEqual(Object.keys(STAGE_TITLES), ['prepare', 'ssh', 'pty', 'apps', 'dashboard', 'cleanup']);
  });
});
