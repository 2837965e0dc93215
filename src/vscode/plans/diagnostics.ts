// Validation problems of a plan file as diagnostics, each placed on the line of its field.
import * as vscode from 'vscode';

/** Places a validation problem (`field.path: message`) on the line where that field is written. */
export function planDiagnostic(text: string, problem: string): vscode.Diagnostic {
  const field = /^([\w$.[\]]+):/.exec(problem)?.[1];
  const key = field
    ?.split('.')
    .pop()
    ?.replace(/\[\d+\]$/, '');
  let range = new vscode.Range(0, 0, 0, 1);
  if (key) {
    const lines = text.split('\n');
    const line = lines.findIndex((candidate) => candidate.includes(`"${key}"`));
    if (line >= 0) range = new vscode.Range(line, lines[line].indexOf(`"${key}"`), line, lines[line].indexOf(`"${key}"`) + key.length + 2);
  }
  const diagnostic = new vscode.Diagnostic(range, problem, vscode.DiagnosticSeverity.Error);
  diagnostic.source = 'coder-scaletest';
  return diagnostic;
}
