// Builds the bundles: the extension host (node, cjs, `vscode` external; the engine's part in
// its own file, loaded on first use), the dashboard webview (browser) and the headless CLI
// (node, with a shebang).
// esbuild does not type-check: `npm run typecheck` (tsc --noEmit) does.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// Optional native add-ons of ws and ssh2: both fall back to pure JS when they are absent.
const optionalNative = ['bufferutil', 'utf-8-validate', 'cpu-features', '*.node'];

/** Prints errors in the form the `$esbuild-watch` problem matcher understands. */
const problemMatcher = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      console.log('[watch] build finished');
    });
  },
};

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
  plugins: watch ? [problemMatcher] : [],
};

/**
 * The simulated coder CLI (src/sim/agent/cliShimMain.ts) ships as text inside the bundles:
 * this replaces cliShimSource.ts (which compiles the shim at run time when unbundled) with the
 * compiled script. Options as CLI_SHIM_BUILD there.
 */
const cliShimAsText = {
  name: 'cli-shim-as-text',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]sim[\\/]agent[\\/]cliShimSource\.ts$/ }, async () => {
      const shim = await esbuild.build({
        entryPoints: ['src/sim/agent/cliShimMain.ts'],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node18',
        write: false,
        minify: false,
      });
      return {
        contents: `export const CLI_SHIM_SOURCE = ${JSON.stringify(shim.outputFiles[0].text)};`,
        loader: 'ts',
        watchFiles: ['src/sim/agent/cliShimMain.ts', 'src/sim/agent/cliShimVersion.ts'],
      };
    });
  },
};

// report.html's charts (the webview's chart module) are bundled once and embedded into the
// node bundles as a constant (see src/engine/outputs/report/chartSource.ts), so report and dashboard agree.
const reportCharts = await esbuild.build({
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  legalComments: 'inline',
  logLevel: 'warning',
  entryPoints: ['webview/reportCharts.ts'],
  write: false,
});

const nodeCommon = {
  ...common,
  plugins: [...common.plugins, cliShimAsText],
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  define: { __REPORT_CHARTS__: JSON.stringify(reportCharts.outputFiles[0].text) },
  // playwright-core is shipped beside the bundle: it loads its own files at run time. esbuild
  // is only required when running unbundled (the report chart bundle is embedded instead).
  external: ['vscode', 'playwright-core', 'esbuild', ...optionalNative],
};

/**
 * The extension host validates plans and reads reports; runs happen in the runner process
 * (dist/cli.js). A stage's descriptor loads its runner with `require('./runner')` when the stage
 * runs (see src/engine/stages/definition.ts), which this plugin replaces in the extension bundle
 * by a module that says so: ssh2, worker threads and Chromium's launch code stay out of it.
 */
const stageRunnersLeftOut = {
  name: 'stage-runners-left-out',
  setup(build) {
    build.onResolve({ filter: /^\.\/runner$/ }, (args) => {
      if (!/[\\/]src[\\/]engine[\\/]stages[\\/]/.test(args.importer)) return undefined;
      return { path: args.path, namespace: 'stage-runner-left-out' };
    });
    build.onLoad({ filter: /.*/, namespace: 'stage-runner-left-out' }, () => ({
      contents: "throw new Error('stage runners are not part of the extension host bundle: runs go to the runner process (dist/cli.js)');",
      loader: 'js',
    }));
  },
};

/**
 * The engine's code in the extension host is dist/engineBackend.js, which
 * src/vscode/engineModule.ts requires on first use: in dist/extension.js its
 * `require('./engineBackend')` stays a require of that file beside it, so activation parses
 * only the VS Code layer.
 */
const engineBackendApart = {
  name: 'engine-backend-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/engineBackend$/ }, (args) => {
      if (!/[\\/]src[\\/]vscode[\\/]engineModule\.ts$/.test(args.importer)) return undefined;
      return { path: './engineBackend.js', external: true };
    });
  },
};

/**
 * One `require` per external module in the extension bundle: esbuild wraps an external imported
 * as `import * as x` in __toESM in every module that imports it, which copies all its properties
 * each time (the vscode API has hundreds: about 0.4 ms per module at activation, 23 modules).
 * A shim per external re-exports it once, and every module reads the shim's namespace.
 */
const externalsOnce = {
  name: 'externals-once',
  setup(build) {
    const once = (name) => name === 'vscode' || builtinModules.includes(name.replace(/^node:/, ''));
    build.onResolve({ filter: /^(vscode|(node:)?[a-z_]+)$/ }, (args) => {
      if (!once(args.path)) return undefined;
      return args.namespace === 'external-once' ? { path: args.path, external: true } : { path: args.path, namespace: 'external-once' };
    });
    build.onLoad({ filter: /.*/, namespace: 'external-once' }, (args) => ({
      contents: `export * from ${JSON.stringify(args.path)};`,
      loader: 'js',
    }));
  },
};

// Packages match anywhere in the path: with node_modules a symlink (a git worktree sharing
// another checkout's), esbuild names inputs by their real path (`../<checkout>/node_modules/…`).

/** What must never be in the extension host's bundles (the runners' code and dependencies). */
const NOT_IN_EXTENSION = [
  /(^|[\\/])node_modules[\\/](ssh2|playwright-core)[\\/]/,
  /^src[\\/]engine[\\/](workers[\\/]|stages[\\/][^\\/]+[\\/]runner\.ts$)/,
];

/** What belongs in dist/engineBackend.js, not in dist/extension.js (parsed at activation). */
const NOT_AT_ACTIVATION = [
  /(^|[\\/])node_modules[\\/](ajv|fast-uri|@sinclair[\\/]typebox|ws|hdr-histogram-js|pako|@assemblyscript[\\/]loader)[\\/]/,
  /^src[\\/]engine[\\/](plan|check|stages|cleanup|templates)[\\/]/,
  /^src[\\/]coder[\\/]client\.ts$/,
];

const integrationSuiteDir = 'test/integration/suite';
const integrationOutDir = 'out/test/integration/suite';

const builds = [
  {
    ...nodeCommon,
    plugins: [...nodeCommon.plugins, stageRunnersLeftOut, engineBackendApart, externalsOnce],
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
  },
  {
    ...nodeCommon,
    plugins: [...nodeCommon.plugins, stageRunnersLeftOut],
    entryPoints: ['src/vscode/engineBackend.ts'],
    outfile: 'dist/engineBackend.js',
  },
  {
    ...nodeCommon,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
    external: [...nodeCommon.external, '@kubernetes/client-node'],
  },
  // @kubernetes/client-node (ESM-only, ~2 MB minified) in a file of its own, loaded by
  // src/k8s/cluster.ts only for `k8s run`/`k8s contexts`: no other CLI process parses it.
  {
    ...nodeCommon,
    entryPoints: ['src/k8s/clientBundle.ts'],
    outfile: 'dist/k8s-client.js',
    minify: true,
    sourcemap: false,
  },
  // An echo stage's worker thread (src/engine/workers): started from dist/ by the CLI's runner.
  { ...nodeCommon, entryPoints: ['src/engine/workers/echoWorkerMain.ts'], outfile: 'dist/echoWorker.js' },
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
  },
  // Integration tests run inside the real VS Code's extension host: the index and each
  // *.test.ts of the suite folder become their own file, which the index hands to mocha.
  // mocha stays external because it loads its reporters dynamically.
  {
    ...nodeCommon,
    entryPoints: readdirSync(integrationSuiteDir)
      .filter((file) => file === 'index.ts' || file.endsWith('.test.ts'))
      .map((file) => `${integrationSuiteDir}/${file}`),
    outdir: integrationOutDir,
    external: [...nodeCommon.external, 'mocha'],
  },
];

if (watch) {
  const contexts = await Promise.all(builds.map((options) => esbuild.context(options)));
  await Promise.all(contexts.map((context) => context.watch()));
} else {
  const results = await Promise.all(builds.map((options) => esbuild.build({ ...options, metafile: true })));
  const inputsOf = (outfile) => Object.keys(results[builds.findIndex((options) => options.outfile === outfile)].metafile.inputs);
  const leaks = (inputs, patterns) => inputs.filter((input) => patterns.some((pattern) => pattern.test(input)));
  for (const outfile of ['dist/extension.js', 'dist/engineBackend.js']) {
    const leaked = leaks(inputsOf(outfile), NOT_IN_EXTENSION);
    if (leaked.length > 0) {
      console.error(`✘ ${outfile} bundles stage runner code (import it through the stage's load()): ${leaked.join(', ')}`);
      process.exitCode = 1;
    }
  }
  const eager = leaks(inputsOf('dist/extension.js'), NOT_AT_ACTIVATION);
  if (eager.length > 0) {
    console.error(`✘ dist/extension.js bundles engine code (reach it through src/vscode/engineModule.ts): ${eager.join(', ')}`);
    process.exitCode = 1;
  }
  // A test whose source was deleted must not keep running from a stale bundle. Removed after
  // the build (not before), so a suite running meanwhile never finds its files missing.
  const written = new Set(results.flatMap((result) => Object.keys(result.metafile.outputs).map((file) => path.resolve(file))));
  for (const file of readdirSync(integrationOutDir)) {
    const output = path.resolve(integrationOutDir, file);
    if (!written.has(output)) rmSync(output, { force: true });
  }
}
