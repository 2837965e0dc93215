// The extension's log: a LogOutputChannel ("Coder Scale Test") where every line passes the
// redactor first, so no session token can reach it, whoever writes.
import * as vscode from 'vscode';
import type { LogLevel } from './backend';
import type { SecretRedactor } from './redact';

const RECENT_LINES = 500;

export class ScaleTestLog implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('Coder Scale Test', { log: true });
  /** The last lines written, as written (integration tests check them for secrets). */
  private readonly recent: string[] = [];

  constructor(private readonly redactor: SecretRedactor) {}

  write(level: LogLevel, text: string): void {
    const line = this.redactor.redact(text);
    this.recent.push(`${level}: ${line}`);
    if (this.recent.length > RECENT_LINES) this.recent.shift();
    this.channel[level](line);
  }

  info(text: string): void {
    this.write('info', text);
  }

  error(text: string): void {
    this.write('error', text);
  }

  show(): void {
    this.channel.show(true);
  }

  recentLines(): string[] {
    return [...this.recent];
  }

  dispose(): void {
    this.channel.dispose();
  }
}
