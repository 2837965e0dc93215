// The workspace's `*.scaletest.json` plans, kept current by a FileSystemWatcher, shared by the
// Plans view and the Test Explorer.
import * as path from 'path';
import * as vscode from 'vscode';
import { Disposable } from '../lifecycle';

export const PLAN_GLOB = '**/*.scaletest.json';
const EXCLUDE_GLOB = '**/{node_modules,.git,.scaletest-results}/**';

export class PlanIndex extends Disposable {
  private plans = new Map<string, vscode.Uri>();
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;

  constructor() {
    super();
    const watcher = this.register(vscode.workspace.createFileSystemWatcher(PLAN_GLOB));
    this.register(watcher.onDidCreate(() => void this.rescan()));
    this.register(watcher.onDidDelete(() => void this.rescan()));
    this.register(watcher.onDidChange(() => this.changed.fire()));
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => void this.rescan()));
  }

  async rescan(): Promise<void> {
    const found = await vscode.workspace.findFiles(PLAN_GLOB, EXCLUDE_GLOB);
    this.plans = new Map(found.sort((a, b) => a.fsPath.localeCompare(b.fsPath)).map((uri) => [uri.toString(), uri]));
    void vscode.commands.executeCommand('setContext', 'coderScaletest.hasPlans', this.plans.size > 0);
    this.changed.fire();
  }

  list(): vscode.Uri[] {
    return [...this.plans.values()];
  }
}

export function planDisplayName(uri: vscode.Uri): string {
  return path.basename(uri.fsPath).replace(/\.scaletest\.json$/, '');
}
