// The Testing API face: each plan is a test, its stages and thresholds are its children.
// Running it in the Test Explorer runs the plan; verdicts arrive with the observed values.
import * as vscode from 'vscode';
import type { RunSnapshot, StageSnapshot, ThresholdSnapshot } from '../../protocol/snapshot';
import type { ScaleTestBackend } from '../backend';
import { engineModule } from '../engineModule';
import { Disposable } from '../lifecycle';
import type { PlanIndex } from '../plans/planIndex';
import { planDisplayName } from '../plans/planIndex';
import type { RunController } from '../runs/controller';
import { describeStage, describeThreshold, failureMessage, stageDurationMs } from '../runs/runModel';

export type RecordedResult = { state: 'passed' | 'failed' | 'skipped' | 'errored'; message?: string; durationMs?: number };

export class PlanTests extends Disposable {
  readonly controller = this.register(vscode.tests.createTestController('coderScaletest', 'Coder Scale Test'));
  /** The last result of every test item by label path (`plan/stage`), for integration tests. */
  readonly lastResults = new Map<string, RecordedResult>();
  /** Test runs of the run profile, by plan URI, so `track` reports into them. */
  private readonly profileRuns = new Map<string, vscode.TestRun>();
  /** Plans whose run started (and so reports its own outcome, errors included). */
  private readonly tracked = new Set<string>();

  constructor(
    private readonly plans: PlanIndex,
    private readonly backend: Pick<ScaleTestBackend, 'validatePlanText'>,
    private readonly runs: RunController,
    private readonly pickDeployment: (planUri: vscode.Uri) => Promise<string | undefined>,
  ) {
    super();
    this.controller.resolveHandler = async (item) => {
      if (!item) this.syncPlans();
      else await this.loadChildren(item);
    };
    this.controller.refreshHandler = async () => {
      await plans.rescan();
      this.syncPlans();
    };
    this.controller.createRunProfile(
      'Run scale test',
      vscode.TestRunProfileKind.Run,
      (request, token) => this.runTests(request, token),
      true,
    );
    this.register(plans.onDidChange(() => this.syncPlans()));
    this.register(runs.onDidStart((live) => this.track(live.planUri)));
  }

  private syncPlans(): void {
    const items = this.plans.list().map((uri) => {
      const existing = this.controller.items.get(uri.toString());
      const item = existing ?? this.controller.createTestItem(uri.toString(), planDisplayName(uri), uri);
      item.canResolveChildren = true;
      return item;
    });
    this.controller.items.replace(items);
    // Children follow edits of the plan file.
    for (const item of items) if (item.children.size > 0) void this.loadChildren(item);
  }

  private async loadChildren(item: vscode.TestItem): Promise<void> {
    if (!item.uri) return;
    try {
      const text = Buffer.from(await vscode.workspace.fs.readFile(item.uri)).toString('utf8');
      const plan = this.backend.validatePlanText(text, item.uri.fsPath);
      item.error = undefined;
      const { stageTitle } = engineModule();
      item.children.replace([
        ...plan.stages.map((stage) => this.child(item, `stage:${stage}`, stageTitle(stage))),
        ...plan.thresholds.map((expression) => this.child(item, `threshold:${expression}`, expression)),
      ]);
    } catch (error) {
      item.error = (error as Error).message;
      item.children.replace([]);
    }
  }

  private child(parent: vscode.TestItem, key: string, label: string): vscode.TestItem {
    const id = `${parent.id}#${key}`;
    return parent.children.get(id) ?? this.controller.createTestItem(id, label, parent.uri);
  }

  private async runTests(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const planItems = new Set<vscode.TestItem>();
    const requested = request.include ?? [...iterate(this.controller.items)];
    for (const item of requested) planItems.add(item.parent ?? item);
    const run = this.controller.createTestRun(request);
    try {
      for (const item of planItems) {
        if (token.isCancellationRequested) {
          run.skipped(item);
          continue;
        }
        await this.runPlan(item, run, token);
      }
    } finally {
      run.end();
    }
  }

  private async runPlan(item: vscode.TestItem, run: vscode.TestRun, token: vscode.CancellationToken): Promise<void> {
    if (!item.uri) return;
    const deploymentUrl = await this.pickDeployment(item.uri);
    if (!deploymentUrl) {
      this.record(run, item, { state: 'skipped', message: 'No deployment chosen' });
      return;
    }
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    this.profileRuns.set(item.uri.toString(), run);
    try {
      await this.runs.run(item.uri, deploymentUrl, abort.signal);
    } catch (error) {
      // A run that never started has no snapshot to report from.
      if (!this.tracked.has(item.uri.toString())) this.record(run, item, { state: 'errored', message: (error as Error).message });
    } finally {
      this.profileRuns.delete(item.uri.toString());
      this.tracked.delete(item.uri.toString());
      cancel.dispose();
    }
  }

  /**
   * Follows a run of the plan at `planUri` in the Test Explorer, whoever started it (the run
   * profile, the Plans view, the command palette), so verdicts show where tests are looked for.
   */
  private track(planUri: vscode.Uri): void {
    const key = planUri.toString();
    let item = this.controller.items.get(key);
    if (!item) {
      item = this.controller.createTestItem(key, planDisplayName(planUri), planUri);
      item.canResolveChildren = true;
      this.controller.items.add(item);
    }
    const planItem = item;
    const profileRun = this.profileRuns.get(key);
    const run = profileRun ?? this.controller.createTestRun(new vscode.TestRunRequest([planItem]), planItem.label, true);
    if (profileRun) this.tracked.add(key);
    run.started(planItem);
    const started = new Set<string>();
    const updates = this.runs.onDidUpdate((snapshot) => {
      for (const stage of snapshot.stages) {
        if (stage.state !== 'running' || started.has(stage.name)) continue;
        started.add(stage.name);
        const child = this.child(planItem, `stage:${stage.name}`, stage.title);
        planItem.children.add(child);
        run.started(child);
      }
    });
    const finished = this.runs.onDidFinish((result) => {
      if (result.planUri.toString() !== key) return;
      updates.dispose();
      finished.dispose();
      if (result.outcome) this.report(planItem, run, result.outcome.snapshot);
      else this.record(run, planItem, { state: 'errored', message: result.error?.message ?? 'the run failed' });
      if (!profileRun) run.end();
    });
  }

  /** Final verdicts: every stage and threshold of the snapshot, adding children the plan file did not list. */
  private report(item: vscode.TestItem, run: vscode.TestRun, snapshot: RunSnapshot): void {
    for (const stage of snapshot.stages) {
      const child = this.child(item, `stage:${stage.name}`, stage.title);
      item.children.add(child);
      this.recordVerdict(run, child, stage, describeStage(stage, snapshot.now).description, stageDurationMs(stage, snapshot.now));
    }
    for (const threshold of snapshot.thresholds) {
      const child = this.child(item, `threshold:${threshold.expression}`, threshold.expression);
      item.children.add(child);
      this.recordVerdict(run, child, threshold, describeThreshold(threshold).description);
    }
    const duration = snapshot.now - snapshot.startedAt;
    if (snapshot.verdict === 'pass') this.record(run, item, { state: 'passed', durationMs: duration });
    else if (snapshot.verdict === 'fail')
      this.record(run, item, {
        state: 'failed',
        message: `${snapshot.planName} failed${snapshot.reason ? `: ${snapshot.reason}` : ''}`,
        durationMs: duration,
      });
    else this.record(run, item, { state: 'skipped', message: snapshot.reason ?? `run ${snapshot.status}` });
  }

  private recordVerdict(
    run: vscode.TestRun,
    child: vscode.TestItem,
    node: StageSnapshot | ThresholdSnapshot,
    observed: string,
    durationMs?: number,
  ): void {
    if (node.verdict === 'pass') {
      run.appendOutput(`✔ ${child.label}: ${observed}\r\n`, undefined, child);
      this.record(run, child, { state: 'passed', message: observed, durationMs });
    } else if (node.verdict === 'fail') {
      this.record(run, child, { state: 'failed', message: failureMessage(node), durationMs });
    } else {
      this.record(run, child, { state: 'skipped', message: node.reason });
    }
  }

  private record(run: vscode.TestRun, item: vscode.TestItem, result: RecordedResult): void {
    this.lastResults.set(labelPath(item), result);
    switch (result.state) {
      case 'passed':
        run.passed(item, result.durationMs);
        break;
      case 'failed':
        run.failed(item, new vscode.TestMessage(result.message ?? 'failed'), result.durationMs);
        break;
      case 'errored':
        run.errored(item, new vscode.TestMessage(result.message ?? 'error'));
        break;
      case 'skipped':
        run.skipped(item);
        break;
    }
  }

  /** The Test Explorer's items: each plan with its children's labels. */
  items(): { label: string; children: string[] }[] {
    return [...iterate(this.controller.items)].map((item) => ({
      label: item.label,
      children: [...iterate(item.children)].map((child) => child.label),
    }));
  }
}

function labelPath(item: vscode.TestItem): string {
  return item.parent ? `${labelPath(item.parent)}/${item.label}` : item.label;
}

function* iterate(collection: vscode.TestItemCollection): Generator<vscode.TestItem> {
  for (const [, item] of collection) yield item;
}
