// The CLI's words for the engine's structured outcomes: what to do about an access problem and
// about leftovers, in terms of this command line's flags and commands. The engine only says
// what happened (src/engine/run/outcome.ts); the extension words the same outcomes its own way.
import type { AccessProblemKind, RunEvent } from '../engine/run/outcome';

const ACCESS_ADVICE: Record<AccessProblemKind, string> = {
  unreachable: '',
  'no-token': "Pass --token or set CODER_SESSION_TOKEN to an owner's token.",
  unauthenticated: 'Check --token or CODER_SESSION_TOKEN: create a token with `coder tokens create` or log in again with `coder login`.',
  'not-owner': "Use an owner's token (--token or CODER_SESSION_TOKEN).",
  'not-coder': 'Check the URL (--url or CODER_URL).',
};

/** The engine's sentence about an access problem, with what to do about it on the command line. */
export function accessProblemText(message: string, kind: AccessProblemKind | undefined): string {
  const advice = kind ? ACCESS_ADVICE[kind] : '';
  return advice ? `${message} ${advice}` : message;
}

/** How to remove a run's leftovers with this CLI. */
export function cleanupCommandText(runId: string): string {
  return `coder-scaletest cleanup --run-id ${runId}`;
}

/** An event as the CLI shows it: leftovers come with the command that removes them. */
export function cliEvent(event: RunEvent, runId: string): RunEvent {
  if (event.code === 'resources-kept')
    return { ...event, message: `${event.message}; remove them later with: ${cleanupCommandText(runId)}` };
  if (event.code === 'resources-left') return { ...event, message: `${event.message}; retry with: ${cleanupCommandText(runId)}` };
  return event;
}
