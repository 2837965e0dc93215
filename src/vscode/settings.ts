// The extension's settings (contributes.configuration), read fresh on every use so changes
// apply without a reload.
import * as path from 'path';
import * as vscode from 'vscode';
import type { TlsOptions } from '../coder/connection';

const SECTION = 'coderScaletest';

export interface Settings {
  tls: TlsOptions;
  chromiumPath?: string;
  coderBinaryPath?: string;
  defaultDeployment?: string;
}

function optionalPath(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration(SECTION);
  return {
    tls: {
      caFile: optionalPath(config.get<string>('tls.caFile')),
      insecure: config.get<boolean>('tls.insecure') === true,
    },
    chromiumPath: optionalPath(config.get<string>('chromiumPath')),
    coderBinaryPath: optionalPath(config.get<string>('coderBinaryPath')),
    defaultDeployment: optionalPath(config.get<string>('defaultDeployment')),
  };
}

/** Where run reports go: the setting (relative to the first workspace folder), else a default. */
export function resultsFolder(context: vscode.ExtensionContext): string {
  const configured = optionalPath(vscode.workspace.getConfiguration(SECTION).get<string>('resultsFolder'));
  const workspaceRoot = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (configured) return path.isAbsolute(configured) || !workspaceRoot ? path.resolve(configured) : path.join(workspaceRoot, configured);
  return workspaceRoot ? path.join(workspaceRoot, '.scaletest-results') : path.join(context.globalStorageUri.fsPath, 'results');
}

export async function setDefaultDeployment(url: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update('defaultDeployment', url, vscode.ConfigurationTarget.Global);
}
