// The extension's words for the engine's structured outcomes (src/engine/run/outcome.ts): what to do
// about leftovers and access problems, in terms of this extension's commands and settings. The
// runner child (src/cli/runner.ts) sends them to the editor over the runner protocol (./runner.ts),
// so they live beside that protocol, not in src/vscode (which the CLI side must not import).
import type { AccessProblemKind, RunEvent } from '../engine/run/outcome';

const CLEANUP_COMMAND = '"Coder Scale Test: Clean Up Leftovers of a Run"';

const ACCESS_ADVICE: Record<AccessProblemKind, string> = {
  unreachable: '',
  'no-token': 'Connect to the deployment with an owner\'s session token ("Coder Scale Test: Connect to Deployment").',
  unauthenticated: 'Connect to the deployment again with a fresh owner\'s session token ("Coder Scale Test: Connect to Deployment").',
  'not-owner': "Connect with an owner's session token.",
  'not-coder': "Check the deployment's URL.",
};

/** The engine's sentence about an access problem, with what to do about it in VS Code. */
export function accessProblemText(message: string, kind: AccessProblemKind | undefined): string {
  const advice = kind ? ACCESS_ADVICE[kind] : '';
  return advice ? `${message} ${advice}` : message;
}

/** An event's log line: leftovers come with the command that removes them. */
export function eventLine(event: RunEvent, runId: string): string {
  const advice =
    event.code === 'resources-kept' || event.code === 'resources-left' ? `; remove them with ${CLEANUP_COMMAND} and run id ${runId}` : '';
  return `${event.stage ? `[${event.stage}] ` : ''}${event.message}${advice}`;
}
