// Entry point of the extension host bundle: wires the pieces and registers disposables.
import * as vscode from 'vscode';
import { DashboardPanel } from './vscode/dashboardPanel';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('coderScaletest.showDashboard', () => DashboardPanel.show(context.extensionUri)),
  );
}

export function deactivate(): void {}
