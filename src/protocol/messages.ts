// Messages between the extension host and the dashboard webview. One definition, imported by
// both sides (src/vscode and webview/), so a change to a message fails to compile on both.
import type { BaselineComparison } from './comparison';
import type { RunSnapshot } from './snapshot';

/** A finished run shown beside another one ("compare two runs"). */
export interface ComparedRun {
  label: string;
  snapshot: RunSnapshot;
}

export type HostToWebview =
  /** The complete state to show; the webview replaces whatever it had. */
  | { type: 'snapshot'; snapshot: RunSnapshot; source: 'live' | 'report' }
  /**
   * Two finished runs side by side, `left` the reference: the plan's baseline, or the older run.
   * `comparison`: right against left per stage on their histograms (absent when a report has none).
   */
  | { type: 'compare'; left: ComparedRun; right: ComparedRun; reference?: 'baseline' | 'older'; comparison?: BaselineComparison }
  /** No run yet: show the empty state. */
  | { type: 'empty'; message: string }
  /** Re-read theme colours (the canvas does not follow CSS changes by itself). */
  | { type: 'theme' }
  /** Test hook: the webview answers with a `rendered` message describing what it drew. */
  | { type: 'probe' };

export type LiveViewCommand = 'stopRun' | 'openReport' | 'exportReport' | 'showLog';

export type WebviewToHost =
  /** Sent once the script has loaded; the host answers with the current state. */
  | { type: 'ready' }
  | { type: 'command'; command: LiveViewCommand }
  /** Answer to a probe: data points per chart id (e.g. `rtt:ssh`) and the shown title. */
  | { type: 'rendered'; charts: Record<string, number>; title: string };

/** What the webview keeps in `setState`, so it can redraw after being hidden or reloaded. */
export type LiveViewState = Extract<HostToWebview, { type: 'snapshot' | 'compare' | 'empty' }>;

/** One handler per message type; leaving a type out is a compile error. */
export type MessageHandlers<M extends { type: string }> = {
  [K in M['type']]: (message: Extract<M, { type: K }>) => void;
};

/**
 * Calls the handler for `message`. Returns false (and calls nothing) for anything that is not
 * a message of a known type, since a webview can post arbitrary values.
 */
export function dispatchMessage<M extends { type: string }>(handlers: MessageHandlers<M>, message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const type = (message as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(handlers, type)) return false;
  (handlers[type as M['type']] as (m: unknown) => void)(message);
  return true;
}

export type { RunSnapshot };
