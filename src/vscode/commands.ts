// How every feature registers its commands: under a typed id, with one error path that
// shows the (redacted) message, logs it and remembers it for the integration tests.
import * as vscode from 'vscode';
import type { CommandId } from './commandIds';
import type { ScaleTestLog } from './log';
import type { SecretRedactor } from './redact';

export class CommandErrors {
  /** The last error a command showed (integration tests read it through the extension API). */
  lastError: string | undefined;

  constructor(
    private readonly log: ScaleTestLog,
    private readonly redactor: SecretRedactor,
  ) {}

  show(error: unknown): void {
    const message = this.redactor.redact(error instanceof Error ? error.message : String(error));
    this.lastError = message;
    this.log.error(message);
    void vscode.window.showErrorMessage(message, 'Show Log').then((choice) => choice && this.log.show());
  }
}

/** Registers `handler` as command `id`; an error it throws is shown, and the command returns undefined. */
export function registerCommand<A extends unknown[]>(
  errors: CommandErrors,
  id: CommandId,
  handler: (...args: A) => unknown,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await handler(...(args as A));
    } catch (error) {
      errors.show(error);
      return undefined;
    }
  });
}
