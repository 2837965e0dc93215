// Messages between the extension host and the dashboard webview. One definition, imported by
// both sides (src/vscode and webview/), so a change to a message fails to compile on both.
import type { RunSnapshot } from './snapshot';

export type HostToWebview =
  /** The complete state to show; the webview replaces whatever it had. */
  | { type: 'snapshot'; snapshot: RunSnapshot; source: 'live' | 'report' }
  /** No run yet: show the empty state. */
  | { type: 'empty'; message: string }
  /** Re-read theme colours (the canvas does not follow CSS changes by itself). */
  | { type: 'theme' };

export type WebviewToHost =
  /** Sent once the script has loaded; the host answers with the current state. */
  | { type: 'ready' }
  | { type: 'command'; command: 'stopRun' | 'openReport' | 'runPlan' }
  /** Answer to a test probe: what the webview rendered (used by integration tests). */
  | { type: 'rendered'; charts: Record<string, number>; title: string };

export type { RunSnapshot };
