// The Runs view: the live run on top, then past runs found in the results folder (each a
// `<runId>/report.json`), each with its stages, thresholds and report files as children.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunSnapshot } from '../protocol/snapshot';
import type { ScaleTestBackend } from './backend';
import type { RunController } from './runController';
import { describeRun, REPORT_FILES, type NodeIcon, type RunChildNode } from './runModel';

export interface PastRun {
  dir: string;
  snapshot?: RunSnapshot;
  error?: string;
}

/** Past runs in the results folder, newest first, each report read once per modification. */
export class RunHistory {
  private readonly cache = new Map<string, { mtimeMs: number; run: PastRun }>();

  constructor(
    private readonly backend: ScaleTestBackend,
    private readonly resultsFolder: () => string,
  ) {}

  async list(): Promise<PastRun[]> {
    const root = this.resultsFolder();
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(root, { withFileTypes: true });
    } catch {
      return [];
    }
    const runs: { run: PastRun; mtimeMs: number }[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(root, entry.name);
      const reportFile = path.join(dir, 'report.json');
      let mtimeMs: number;
      try {
        mtimeMs = (await fs.promises.stat(reportFile)).mtimeMs;
      } catch {
        continue;
      }
      const cached = this.cache.get(dir);
      if (cached && cached.mtimeMs === mtimeMs) {
        runs.push(cached);
        continue;
      }
      let run: PastRun;
      try {
        run = { dir, snapshot: await this.backend.readReport(dir) };
      } catch (error) {
        run = { dir, error: (error as Error).message };
      }
      this.cache.set(dir, { mtimeMs, run });
      runs.push({ run, mtimeMs });
    }
    return runs.sort((a, b) => (b.run.snapshot?.startedAt ?? b.mtimeMs) - (a.run.snapshot?.startedAt ?? a.mtimeMs)).map(({ run }) => run);
  }
}

const ICONS: Record<NodeIcon, [string, string]> = {
  pass: ['pass', 'testing.iconPassed'],
  fail: ['error', 'testing.iconFailed'],
  pending: ['circle-large-outline', 'testing.iconQueued'],
  skipped: ['circle-slash', 'testing.iconSkipped'],
  running: ['sync~spin', 'testing.runAction'],
};

function themeIcon(icon: NodeIcon): vscode.ThemeIcon {
  const [id, color] = ICONS[icon];
  return new vscode.ThemeIcon(id, new vscode.ThemeColor(color));
}

export type RunsNode = RunNode | RunDetailNode | ReportFileNode;

export class RunNode extends vscode.TreeItem {
  constructor(
    readonly snapshot: RunSnapshot | undefined,
    readonly dir: string | undefined,
    readonly live: boolean,
    error?: string,
  ) {
    super(path.basename(dir ?? 'run'), vscode.TreeItemCollapsibleState.Collapsed);
    if (snapshot) {
      const model = describeRun(snapshot, live);
      this.label = model.label;
      this.description = model.description;
      this.tooltip = model.tooltip;
      this.iconPath = themeIcon(model.icon);
      this.id = `run:${snapshot.runId}${live ? ':live' : ''}`;
    } else {
      this.description = 'unreadable report';
      this.tooltip = error;
      this.iconPath = new vscode.ThemeIcon('warning');
      this.collapsibleState = vscode.TreeItemCollapsibleState.None;
    }
    this.contextValue = live ? 'run.live' : 'run.past';
    if (dir) this.command = { command: 'coderScaletest.openRunInDashboard', title: 'Open in Dashboard', arguments: [{ runDir: dir }] };
    else if (live) this.command = { command: 'coderScaletest.showDashboard', title: 'Open Dashboard' };
  }

  children(): RunsNode[] {
    if (!this.snapshot) return [];
    const details = describeRun(this.snapshot, this.live).children.map((child) => new RunDetailNode(child, this.snapshot!.runId));
    const files = this.dir ? REPORT_FILES.filter((file) => fs.existsSync(path.join(this.dir!, file))).map((file) => new ReportFileNode(path.join(this.dir!, file))) : [];
    return [...details, ...files];
  }
}

export class RunDetailNode extends vscode.TreeItem {
  constructor(readonly model: RunChildNode, runId: string) {
    super(model.label, vscode.TreeItemCollapsibleState.None);
    this.id = `run:${runId}:${model.id}`;
    this.description = model.description;
    this.tooltip = model.tooltip;
    this.iconPath = themeIcon(model.icon);
    this.contextValue = model.kind;
  }
}

export class ReportFileNode extends vscode.TreeItem {
  constructor(readonly file: string) {
    super(path.basename(file), vscode.TreeItemCollapsibleState.None);
    this.resourceUri = vscode.Uri.file(file);
    this.iconPath = new vscode.ThemeIcon(file.endsWith('.html') ? 'globe' : file.endsWith('.xml') ? 'checklist' : 'json');
    this.contextValue = 'reportFile';
    this.command = { command: 'coderScaletest.openReportFile', title: 'Open Report', arguments: [{ file }] };
  }
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly history: RunHistory,
    private readonly controller: RunController,
  ) {
    this.disposables.push(
      controller.onDidUpdate(() => this.changed.fire()),
      controller.onDidFinish(() => this.changed.fire()),
    );
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    return node;
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (node) return node instanceof RunNode ? node.children() : [];
    const live = this.controller.current;
    const roots: RunNode[] = [];
    if (live?.snapshot) roots.push(new RunNode(live.snapshot, undefined, true));
    for (const run of await this.history.list()) roots.push(new RunNode(run.snapshot, run.dir, false, run.error));
    void vscode.commands.executeCommand('setContext', 'coderScaletest.hasRuns', roots.some((root) => !root.live));
    return roots;
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
    this.changed.dispose();
  }
}
