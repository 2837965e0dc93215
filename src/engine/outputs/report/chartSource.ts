// The browser bundle that draws report.html's charts (webview/reportCharts.ts: the dashboard's
// chart module with chart.js), inlined into the self-contained report. esbuild.mjs builds it
// once and hands it to the node bundles as the constant __REPORT_CHARTS__; run unbundled (tsx,
// unit tests) it is built here on first use with esbuild, a development dependency.
import * as path from 'path';

declare const __REPORT_CHARTS__: string | undefined;

/** esbuild options of the bundle; esbuild.mjs builds with the same. */
const REPORT_CHARTS_BUILD = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  legalComments: 'inline',
} as const;

let built: string | undefined;

export function reportChartsSource(): string {
  if (typeof __REPORT_CHARTS__ === 'string') return __REPORT_CHARTS__;
  if (built === undefined) {
    // Only outside the bundles: esbuild is external there and this line never runs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    const result = esbuild.buildSync({
      ...REPORT_CHARTS_BUILD,
      entryPoints: [path.join(__dirname, '../../../../webview/reportCharts.ts')],
      write: false,
    });
    built = result.outputFiles[0].text;
  }
  return built;
}
