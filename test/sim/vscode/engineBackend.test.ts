import * as assert from 'assert';
import { createEngineBackend } from '../../../src/vscode/engineBackend';
import { keptRun, leftovers, useSimAndOutDir } from '../../support/simRun';

describe('VS Code engine backend: Clean Up Leftovers of a Run', function () {
  this.timeout(60_000);
  const env = useSimAndOutDir();

  it('cancelling stops new deletions and the summary names what was left behind', async () => {
    const { runId, connection } = await keptRun(env, 2);

    const controller = new AbortController();
    const reported: number[] = [];
    const summary = await createEngineBackend().cleanupRun({
      runId,
      connection,
      signal: controller.signal,
      // Cancel as the first workspace is deleted: the other one is already under way.
      onProgress: ({ done }) => {
        reported.push(done);
        controller.abort();
      },
      log: () => undefined,
    });
    const left = await leftovers(env.sim);
    assert.deepStrictEqual(left.workspaces, []);
    assert.strictEqual(left.users.length, 2);
    assert.deepStrictEqual(reported, [1, 2]);
    const [first, second] = summary
      .match(/user [\w-]+/g)!
      .map((name) => name.slice(5))
      .sort();
    assert.deepStrictEqual([first, second], [...left.users].sort());
    assert.match(
      summary,
      new RegExp(`^Run ${runId}: deleted 2 of 2 workspace\\(s\\) and 0 of 2 user\\(s\\); cancelled, left behind: user \\S+, user \\S+\\.$`),
    );
  });
});
