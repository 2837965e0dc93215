// Validating a plan loads no stage runner: the plan module, the registry and the threshold
// judge import descriptors only, and reach a runner only through a descriptor's load() (its
// `require('./runner')`, left out here as in the extension bundle). Read from esbuild's own
// module graph (in-process, no bundle written).
import * as assert from 'assert';
import * as esbuild from 'esbuild';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const RUNNER_SIDE = [
  /^node_modules\/(ssh2|ws|playwright-core)\//,
  /^src\/engine\/workers\//,
  /^src\/engine\/stages\/[^/]+\/runner\.ts$/,
  /^src\/engine\/run\/(run|timeline|snapshotBuilder)\.ts$/,
];

async function moduleGraph(entry: string): Promise<string[]> {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'silent',
    external: ['bufferutil', 'utf-8-validate', 'cpu-features', '*.node', 'playwright-core', 'esbuild'],
    plugins: [
      {
        name: 'loaded-runners-external',
        setup(build) {
          build.onResolve({ filter: /^\.\/runner$/ }, (args) =>
            args.importer.includes('/src/engine/stages/') ? { path: args.path, external: true } : undefined,
          );
        },
      },
    ],
  });
  return Object.keys(result.metafile!.inputs);
}

describe('stage descriptors apart from their runners', function () {
  this.timeout(30_000);

  for (const entry of ['src/engine/plan/plan.ts', 'src/engine/stages/registry.ts', 'src/engine/judge/thresholds.ts']) {
    it(`${entry} imports no runner code (ssh2, ws, Chromium, worker threads, a stage's runner.ts)`, async () => {
      const inputs = await moduleGraph(entry);
      assert.ok(inputs.includes('src/engine/stages/ssh/descriptor.ts'), 'the graph holds the descriptors');
      assert.deepStrictEqual(
        inputs.filter((input) => RUNNER_SIDE.some((pattern) => pattern.test(input))),
        [],
      );
    });
  }

  it('a runner is in the graph of the stage that loads it (the check can fail)', async () => {
    const inputs = await moduleGraph('src/engine/stages/ssh/runner.ts');
    assert.ok(inputs.some((input) => input.startsWith('node_modules/ssh2/')));
  });
});
