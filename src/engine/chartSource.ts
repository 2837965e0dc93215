// chart.js's standalone UMD build, inlined into the self-contained report.html. The esbuild
// bundle embeds the file as text (import attribute; the package's exports map hides the UMD
// file, hence the relative path). Run unbundled (tsx, unit tests) the import yields the module
// object instead, so the same file is read from node_modules.
import * as fs from 'fs';
import * as path from 'path';
// @ts-ignore -- TypeScript's commonjs mode rejects import attributes; esbuild honours them.
import bundled from '../../node_modules/chart.js/dist/chart.umd.min.js' with { type: 'text' };

export function chartJsSource(): string {
  if (typeof bundled === 'string') return bundled;
  return fs.readFileSync(path.join(__dirname, '../../node_modules/chart.js/dist/chart.umd.min.js'), 'utf8');
}
