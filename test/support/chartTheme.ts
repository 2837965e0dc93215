// A chart theme whose colours are one-letter names, so tests can tell which colour a line got.
import type { ThemeColors } from '../../webview/chartSpecs';

export const LETTER_THEME: ThemeColors = {
  foreground: '#000',
  muted: '#888',
  grid: '#ddd',
  series: { blue: 'b', orange: 'o', purple: 'p', green: 'g', yellow: 'y', red: 'r' },
  p50: '1',
  p95: '2',
  p99: '3',
};
