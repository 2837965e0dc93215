// Where a run shows up besides the terminal: Prometheus /metrics (--metrics-address), Grafana
// annotations (--grafana-url), and the Markdown summary for CI (--summary FILE, and
// $GITHUB_STEP_SUMMARY by itself). Checked before the run starts (a taken port or a bad URL is a
// usage error, exit 2, before anything is created); fed by the run; finished after its reports.
import * as fs from 'fs';
import * as path from 'path';
import type { Plan } from '../engine/plan/plan';
import { checkGrafanaUrl, stageAnnotations, writeAnnotations, type GrafanaTarget } from '../engine/outputs/grafana';
import { runRegistry, serveMetrics, type MetricsServer, type MetricsSource } from '../engine/outputs/prometheus';
import type { Registry } from 'prom-client';
import type { RunSnapshot } from '../protocol/snapshot';
import { stringOption, UsageError, type OptionSpec, type OptionValues } from './args';
import type { Output } from './progress';

export const OBSERVE_OPTIONS: OptionSpec[] = [
  {
    flags: '--metrics-address <HOST:PORT>',
    help: "serve Prometheus /metrics there during the run and a few seconds after (default: off, or the plan's observe.metricsAddress; :PORT = loopback)",
    expects: 'HOST:PORT, e.g. 127.0.0.1:9464 (0.0.0.0:9464 for every interface)',
  },
  {
    flags: '--summary <FILE>',
    help: 'write the run as Markdown there (verdict, stages, failed thresholds, baseline, reference figures, cleanup); also to $GITHUB_STEP_SUMMARY when set',
    expects: 'a file for the Markdown summary',
  },
  {
    flags: '--grafana-url <URL>',
    help: "write the stage windows as annotations in this Grafana (token: GRAFANA_TOKEN or --grafana-token-file; default: the plan's observe.grafanaUrl)",
    expects: 'a Grafana URL, e.g. https://grafana.example.com',
  },
  {
    flags: '--grafana-token-file <FILE>',
    help: 'read the Grafana service-account token from this file (default: GRAFANA_TOKEN)',
    expects: 'a file holding a Grafana service-account token',
  },
];

export interface ObserveSettings {
  metricsAddress?: string;
  lingerMs: number;
  /** --summary FILE: written. */
  summaryFile?: string;
  /** $GITHUB_STEP_SUMMARY: appended to (every step of the job adds its own). */
  stepSummaryFile?: string;
  grafana?: GrafanaTarget;
}

/** The observe settings of a run from its flags, environment and plan; a UsageError says what is wrong. */
export function observeSettings(values: OptionValues, env: NodeJS.ProcessEnv, plan: Plan, command = 'run'): ObserveSettings {
  const metricsAddress = stringOption(values, 'metrics-address') ?? plan.observe.metricsAddress;
  const grafanaUrl = stringOption(values, 'grafana-url') ?? plan.observe.grafanaUrl;
  let grafana: GrafanaTarget | undefined;
  if (grafanaUrl) {
    let url: string;
    try {
      url = checkGrafanaUrl(grafanaUrl);
    } catch (error) {
      throw new UsageError((error as Error).message, command);
    }
    const token = grafanaToken(stringOption(values, 'grafana-token-file'), env, command);
    grafana = { url, token, dashboardUid: plan.observe.grafanaDashboard };
  } else if (stringOption(values, 'grafana-token-file')) {
    throw new UsageError('--grafana-token-file needs --grafana-url (or observe.grafanaUrl in the plan)', command);
  }
  return {
    metricsAddress,
    lingerMs: plan.observe.metricsLingerSeconds * 1000,
    summaryFile: stringOption(values, 'summary'),
    stepSummaryFile: env.GITHUB_STEP_SUMMARY || undefined,
    grafana,
  };
}

function grafanaToken(file: string | undefined, env: NodeJS.ProcessEnv, command: string): string {
  let token = env.GRAFANA_TOKEN;
  if (file !== undefined) {
    try {
      token = fs.readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new UsageError(
        `--grafana-token-file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        command,
      );
    }
  }
  if (!token) throw new UsageError('--grafana-url needs a service-account token: set GRAFANA_TOKEN or pass --grafana-token-file', command);
  return token;
}

/** The observers of one run (or one shard, or a coordinator). */
export class Observers {
  private source?: MetricsSource;

  private constructor(
    private readonly settings: ObserveSettings,
    private readonly shard: string,
    private readonly server: MetricsServer | undefined,
    private readonly registry: Registry | undefined,
    private readonly stderr: Output,
  ) {}

  /**
   * Starts listening (when asked to) before the run exists, so a taken port stops the command
   * before anything is created; the run is bound later. `shard`: `0/1` for a single runner,
   * `i/N` for a shard, `merged` for a coordinator.
   */
  static async start(settings: ObserveSettings, shard: string, stderr: Output, command = 'run'): Promise<Observers> {
    const self: { observers?: Observers } = {};
    let server: MetricsServer | undefined;
    let registry: Registry | undefined;
    if (settings.metricsAddress) {
      const source: MetricsSource = {
        snapshot: () => self.observers!.bound().snapshot(),
        histograms: () => self.observers!.bound().histograms(),
        workspaces: () => self.observers!.source?.workspaces?.() ?? [],
        exitCode: () => self.observers!.source?.exitCode?.(),
      };
      registry = runRegistry(source, { runId: '', shard });
      try {
        server = await serveMetrics(settings.metricsAddress, registry);
      } catch (error) {
        throw new UsageError(`--metrics-address: ${(error as Error).message}`, command);
      }
      stderr.write(`serving Prometheus metrics at ${server.url}\n`);
    }
    self.observers = new Observers(settings, shard, server, registry, stderr);
    return self.observers;
  }

  get metricsUrl(): string | undefined {
    return this.server?.url;
  }

  bind(runId: string, source: MetricsSource): void {
    this.source = source;
    this.registry?.setDefaultLabels({ run_id: runId, shard: this.shard });
  }

  private bound(): MetricsSource {
    if (!this.source) throw new Error('the run has not started yet');
    return this.source;
  }

  /** After the reports: the summary files, the Grafana annotations, then /metrics a few seconds more. */
  async finish(final: { snapshot: RunSnapshot; reportDir: string }): Promise<void> {
    const summary = path.join(final.reportDir, 'summary.md');
    const targets = [
      { file: this.settings.summaryFile, append: false },
      { file: this.settings.stepSummaryFile, append: true },
    ];
    for (const { file, append } of targets) {
      if (!file) continue;
      try {
        const text = fs.readFileSync(summary, 'utf8');
        if (append) fs.appendFileSync(file, `${text}\n`);
        else {
          fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
          fs.writeFileSync(file, text);
        }
      } catch (error) {
        this.stderr.write(`could not write the summary to ${file}: ${(error as Error).message}\n`);
      }
    }
    if (this.settings.grafana) {
      try {
        const written = await writeAnnotations(this.settings.grafana, stageAnnotations(final.snapshot, this.settings.grafana.dashboardUid));
        this.stderr.write(`wrote ${written} annotation(s) to Grafana at ${this.settings.grafana.url}\n`);
      } catch (error) {
        this.stderr.write(`warning: could not write the annotations to Grafana: ${(error as Error).message}\n`);
      }
    }
    if (this.server) {
      if (this.settings.lingerMs > 0)
        this.stderr.write(`serving /metrics ${Math.round(this.settings.lingerMs / 1000)} s more for the last scrape\n`);
      await this.server.close(this.settings.lingerMs);
    }
  }

  /** Stops serving at once (the run never started). */
  async close(): Promise<void> {
    await this.server?.close(0);
  }
}
