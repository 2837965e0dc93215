// The simulated coder CLI (cliShimMain.ts) as the text of a self-contained Node script. In the
// bundles, esbuild.mjs replaces this module with the precompiled text (so the shim ships inside
// dist/cli.js and dist/extension.js without extra files); unbundled (unit tests under tsx) it
// compiles the shim here, once, with the same esbuild options.
import * as path from 'path';

/** Build options shared with esbuild.mjs (keep them in step). */
export const CLI_SHIM_BUILD = { bundle: true, platform: 'node', format: 'cjs', target: 'node18', write: false, minify: false } as const;

function compile(): string {
  // Loaded lazily: esbuild is a build tool, absent from the shipped bundles (which never get here).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({ ...CLI_SHIM_BUILD, entryPoints: [path.join(__dirname, 'cliShimMain.ts')] });
  return result.outputFiles[0]!.text;
}

export const CLI_SHIM_SOURCE: string = compile();
