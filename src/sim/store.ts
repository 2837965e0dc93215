// The simulated deployment's state (coderd's database, in memory): the organization, its users
// and tokens (`users`, users.ts) and templates (`catalog`, templates.ts), workspaces and their
// builds, plus the build and agent lifecycles that move them along over time. Its JSON views are
// in bodies.ts.
import * as crypto from 'crypto';
import { EventEmitter } from 'events';
import type * as S from '../coder/schemas';
import type { AgentRef } from './agentServices';
import { CountedSelector } from './agent/liveConnections';
import { buildBody, organizationBody, workspaceBody, type BodyContext, type TemplateBody } from './bodies';
import { TemplateCatalog, type SimTemplateVersion } from './templates';
import { SimUsers, type SimUser } from './users';

export { hashSecret, randomAlphanumeric, type SimUser } from './users';
import type { FaultsConfig } from './faults';
import { drawBuildDuration, seededRandom } from './buildDuration';
import type { QueuedJob, SimProvisioners } from './provisioners';

interface SimJob extends QueuedJob {
  fileId: string;
}

/** Why a build was started (codersdk.BuildReason); the lifecycle executor's are `autostart`. */
export type BuildReason = 'initiator' | 'autostart';

export interface SimBuild {
  id: string;
  number: number;
  workspace: SimWorkspace;
  transition: S.WorkspaceTransitionValue;
  status: S.WorkspaceStatusValue;
  job: SimJob;
  initiatorId: string;
  initiatorName: string;
  reason: BuildReason;
  logs: S.ProvisionerJobLog[];
  createdAt: string;
  updatedAt: string;
  timers: NodeJS.Timeout[];
}

export interface SimAgent {
  id: string;
  name: string;
  resourceId: string;
  appId: string;
  logSourceId: string;
  scriptId: string;
  status: S.WorkspaceAgentStatusValue;
  lifecycle: S.WorkspaceAgentLifecycleValue;
  createdAt: string;
  updatedAt: string;
  firstConnectedAt?: string;
  /** When the startup script started and ended (coderd's started_at / ready_at). */
  startedAt?: string;
  readyAt?: string;
  timers: NodeJS.Timeout[];
}

export interface SimWorkspace {
  id: string;
  name: string;
  owner: SimUser;
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string;
  builds: SimBuild[];
  /** The template and version it is built from: its agent and apps are that version's. */
  templateId: string;
  templateVersionId: string;
  agent: SimAgent;
  /** The template version declares no agent: the workspace's resources have none. */
  agentless: boolean;
  deleted: boolean;
  /** `CRON_TZ=<zone> m h * * dow`, as set by PUT /workspaces/{id}/autostart. */
  autostartSchedule?: string;
  /** coderd's next_start_at: NextAllowedAutostart from when the schedule was set (ISO). */
  nextStartAt?: string;
}

export interface StoreOptions {
  /** The echo app is a subdomain app (served on the wildcard app host). */
  subdomainApps?: boolean;
  /** Subdomain labels carry the agent name (the impersonated version's form). */
  appLabelWithAgent?: boolean;
  faults(): FaultsConfig;
  /** Every provisioner job waits here for a daemon (provisioners.ts). */
  provisioners: SimProvisioners;
  /** Default build duration when the faults do not set one. */
  buildDurationMs: number;
  agentConnectDelayMs: number;
  /** How long the agent's startup script runs once connected (lifecycle `starting`), ms. */
  startupScriptMs: number;
  /** The template's agent connection timeout; coderd's default is 120 s. */
  agentConnectionTimeoutSeconds?: number;
  /** A workspace was deleted: its agent's sessions must go. */
  onAgentGone(agentId: string): void;
}

export const ORGANIZATION_NAME = 'coder';
export const TEMPLATE_NAME = 'scaletest-docker';
export const AGENT_NAME = 'main';
export const APP_SLUG = 'wsec';
/** coderd's default agent connection timeout (seconds), as templates set it. */
const AGENT_CONNECTION_TIMEOUT_SECONDS = 120;

const now = () => new Date().toISOString();

export class SimStore {
  readonly organization = organizationBody(now());
  /** Users and their session tokens (users.ts), all in the one organization. */
  readonly users = new SimUsers(this.organization.id);
  /** Uploaded files, template versions and templates (templates.ts). */
  readonly catalog: TemplateCatalog;
  readonly workspaces = new Map<string, SimWorkspace>();
  private readonly builds = new Map<string, SimBuild>();
  /** Emits `log:<buildId>` (ProvisionerJobLog), `done:<buildId>` and `workspace:<id>` (any change). */
  readonly events = new EventEmitter();
  private nextLogId = 1;
  // Exact fractions, evenly spread, like the other faults: failBuilds 0.25 fails every 4th build.
  private readonly failBuildSelector = new CountedSelector();
  private readonly neverConnectSelector = new CountedSelector();
  private readonly scriptFailSelector = new CountedSelector();
  private readonly scriptTimeoutSelector = new CountedSelector();
  /** Seeded, so a build-duration distribution gives the same durations on every run. */
  private readonly random = seededRandom(0x5eed);

  constructor(private readonly options: StoreOptions) {
    this.events.setMaxListeners(0);
    this.catalog = new TemplateCatalog({
      organization: this.organization,
      events: this.events,
      // An import plans the template once: about half a workspace build.
      importDurationMs: () => Math.max(0, (this.options.faults().buildDurationMs ?? this.options.buildDurationMs) / 2),
      nextLogId: () => this.nextLogId++,
    });
  }

  /** The template a provisioner job works for: a build's workspace's, or an import's version's. */
  templateOfJob(jobId: string): TemplateBody | undefined {
    const build = [...this.builds.values()].find((candidate) => candidate.job.id === jobId);
    const version = build
      ? this.versionOf(build.workspace)
      : [...this.catalog.versions.values()].find((candidate) => candidate.job.id === jobId);
    return version?.templateId ? this.catalog.templates.get(version.templateId) : undefined;
  }

  /** The template version a workspace is built from. */
  versionOf(workspace: SimWorkspace): SimTemplateVersion {
    return this.catalog.versions.get(workspace.templateVersionId)!;
  }

  // ---- workspaces ----

  findWorkspace(owner: SimUser, name: string): SimWorkspace | undefined {
    for (const workspace of this.workspaces.values()) {
      if (!workspace.deleted && workspace.owner.id === owner.id && workspace.name.toLowerCase() === name.toLowerCase()) return workspace;
    }
    return undefined;
  }

  findAgent(agentId: string): SimWorkspace | undefined {
    for (const workspace of this.workspaces.values()) if (workspace.agent.id === agentId && !workspace.deleted) return workspace;
    return undefined;
  }

  /** Every build of every workspace, deleted ones included (the jobs table). */
  allBuilds(): SimBuild[] {
    return [...this.builds.values()];
  }

  findBuild(id: string): SimBuild | undefined {
    return this.builds.get(id);
  }

  agentRef(workspace: SimWorkspace): AgentRef {
    return {
      agentId: workspace.agent.id,
      agentName: workspace.agent.name,
      workspaceId: workspace.id,
      workspaceName: workspace.name,
      ownerId: workspace.owner.id,
      ownerName: workspace.owner.username,
    };
  }

  createWorkspace(owner: SimUser, name: string, initiator: SimUser, version: SimTemplateVersion): SimWorkspace {
    const created = now();
    const agentSpec = version.agents[0];
    const workspace: SimWorkspace = {
      id: crypto.randomUUID(),
      name,
      owner,
      createdAt: created,
      updatedAt: created,
      lastUsedAt: created,
      builds: [],
      templateId: version.templateId!,
      templateVersionId: version.id,
      agentless: !agentSpec,
      deleted: false,
      agent: {
        id: crypto.randomUUID(),
        name: agentSpec?.name ?? AGENT_NAME,
        resourceId: crypto.randomUUID(),
        appId: crypto.randomUUID(),
        logSourceId: crypto.randomUUID(),
        scriptId: crypto.randomUUID(),
        status: 'connecting',
        lifecycle: 'created',
        createdAt: created,
        updatedAt: created,
        timers: [],
      },
    };
    this.workspaces.set(workspace.id, workspace);
    this.startBuild(workspace, 'start', initiator);
    return workspace;
  }

  latestBuild(workspace: SimWorkspace): SimBuild {
    return workspace.builds[workspace.builds.length - 1]!;
  }

  isActive(build: SimBuild): boolean {
    return build.job.status === 'pending' || build.job.status === 'running' || build.job.status === 'canceling';
  }

  /**
   * Queues a build's provisioner job: it waits (pending) until a daemon takes it, then runs for
   * the build duration with logs, then succeeds (or fails, per the `failBuilds` fault for start
   * builds). The daemons and their queue are provisioners.ts.
   */
  startBuild(
    workspace: SimWorkspace,
    transition: S.WorkspaceTransitionValue,
    initiator: SimUser,
    reason: BuildReason = 'initiator',
  ): SimBuild {
    const faults = this.options.faults();
    const duration = drawBuildDuration(faults, this.options.buildDurationMs, this.random);
    const created = now();
    const build: SimBuild = {
      id: crypto.randomUUID(),
      number: workspace.builds.length + 1,
      workspace,
      transition,
      status: 'pending',
      job: { id: crypto.randomUUID(), fileId: crypto.randomUUID(), status: 'pending', createdAt: created },
      initiatorId: initiator.id,
      initiatorName: initiator.username,
      reason,
      logs: [],
      createdAt: created,
      updatedAt: created,
      timers: [],
    };
    workspace.builds.push(build);
    workspace.updatedAt = created;
    this.builds.set(build.id, build);

    const willFail = transition === 'start' && (faults.failBuilds ?? 0) > 0 && this.failBuildSelector.next(faults.failBuilds!);
    const stages =
      transition === 'delete'
        ? ['Planning infrastructure', 'Destroying workspace']
        : ['Setting up', 'Planning infrastructure', 'Starting workspace'];
    const stepMs = duration / (stages.length + 1);
    this.options.provisioners.submit(build.job, {
      kind: 'workspace_build',
      initiatorId: initiator.id,
      durationMs: duration,
      onStart: () => {
        this.setBuildStatus(build, transition === 'delete' ? 'deleting' : transition === 'stop' ? 'stopping' : 'starting');
        stages.forEach((stage, index) => {
          build.timers.push(
            setTimeout(
              () => {
                this.appendLog(build, stage, 'info', `${stage}...`);
                if (stage === 'Starting workspace' && !workspace.agentless)
                  this.appendLog(build, stage, 'info', `coder_agent.${workspace.agent.name}: Creation complete`);
              },
              stepMs * (index + 1),
            ),
          );
        });
      },
      onFinish: () => this.finishBuild(build, willFail),
    });
    // Announced once queued, so the first update already carries the queue figures.
    if (transition === 'start') this.setAgent(workspace, 'connecting', 'created');
    else this.events.emit(`workspace:${workspace.id}`);
    return build;
  }

  cancelBuild(build: SimBuild): void {
    for (const timer of build.timers) clearTimeout(timer);
    const where = this.options.provisioners.cancel(build.job);
    build.job.status = 'canceling';
    this.setBuildStatus(build, 'canceling');
    this.appendLog(build, 'Canceling', 'warn', 'Job canceled by user');
    const markCanceled = () => {
      build.job.status = 'canceled';
      build.job.canceledAt = build.job.completedAt = now();
      this.setBuildStatus(build, 'canceled');
      this.events.emit(`done:${build.id}`);
    };
    // coderd completes a job that no daemon has taken at once; a running one when its daemon stops.
    if (where === 'pending') markCanceled();
    else build.timers = [setTimeout(markCanceled, 50)];
  }

  private finishBuild(build: SimBuild, fail: boolean): void {
    build.job.completedAt = now();
    if (fail) {
      build.job.status = 'failed';
      build.job.error = 'simulated failure: terraform apply exited with code 1 (fault failBuilds)';
      this.appendLog(build, 'Starting workspace', 'error', build.job.error);
      this.setBuildStatus(build, 'failed');
    } else {
      build.job.status = 'succeeded';
      this.appendLog(build, 'Cleaning Up', 'info', 'Build succeeded');
      const workspace = build.workspace;
      if (build.transition === 'delete') {
        this.setBuildStatus(build, 'deleted');
        workspace.deleted = true;
        this.setAgent(workspace, 'disconnected', 'off');
        this.options.onAgentGone(workspace.agent.id);
      } else if (build.transition === 'stop') {
        this.setBuildStatus(build, 'stopped');
        this.setAgent(workspace, 'disconnected', 'off');
      } else {
        this.setBuildStatus(build, 'running');
        if (!workspace.agentless) this.scheduleAgentConnect(workspace);
      }
    }
    this.events.emit(`done:${build.id}`);
  }

  private scheduleAgentConnect(workspace: SimWorkspace): void {
    const agent = workspace.agent;
    const faults = this.options.faults();
    if ((faults.agentsNeverConnect ?? 0) > 0 && this.neverConnectSelector.next(faults.agentsNeverConnect!)) {
      agent.timers.push(setTimeout(() => this.markAgentTimedOut(workspace), this.connectionTimeoutSeconds * 1000));
      return;
    }
    const delay = Math.max(0, faults.agentConnectDelayMs ?? this.options.agentConnectDelayMs);
    if (delay > this.connectionTimeoutSeconds * 1000) {
      agent.timers.push(setTimeout(() => this.markAgentTimedOut(workspace), this.connectionTimeoutSeconds * 1000));
    }
    agent.timers.push(
      setTimeout(() => {
        agent.firstConnectedAt ??= now();
        this.setAgent(workspace, 'connected', 'starting');
        this.runStartupScript(workspace);
      }, delay),
    );
  }

  /**
   * The agent runs the template's startup script once connected (lifecycle `starting`), which
   * starts the apps: `ready` when it ends, `start_error` when it fails (the apps never start),
   * `start_timeout` when it outlives its timeout (coderd's agent reports that and the script
   * goes on; the apps start). coderd: agent/agent.go, codersdk.WorkspaceAgentLifecycle.
   */
  private runStartupScript(workspace: SimWorkspace): void {
    const agent = workspace.agent;
    const faults = this.options.faults();
    const ms = Math.max(0, faults.startupScriptMs ?? this.options.startupScriptMs);
    const outcome: S.WorkspaceAgentLifecycleValue =
      (faults.startupScriptFails ?? 0) > 0 && this.scriptFailSelector.next(faults.startupScriptFails!)
        ? 'start_error'
        : (faults.startupScriptTimesOut ?? 0) > 0 && this.scriptTimeoutSelector.next(faults.startupScriptTimesOut!)
          ? 'start_timeout'
          : 'ready';
    agent.startedAt = now();
    agent.timers.push(
      setTimeout(() => {
        agent.readyAt = now();
        this.setAgent(workspace, 'connected', outcome);
      }, ms),
    );
  }

  private get connectionTimeoutSeconds(): number {
    return this.options.agentConnectionTimeoutSeconds ?? AGENT_CONNECTION_TIMEOUT_SECONDS;
  }

  /**
   * Like coderd, which derives `timeout` from "never connected and older than the template's
   * connection timeout": the status is not final, and an agent that connects later is `connected`.
   */
  private markAgentTimedOut(workspace: SimWorkspace): void {
    const agent = workspace.agent;
    agent.status = 'timeout';
    agent.updatedAt = now();
    this.events.emit(`workspace:${workspace.id}`);
  }

  private setAgent(workspace: SimWorkspace, status: S.WorkspaceAgentStatusValue, lifecycle: S.WorkspaceAgentLifecycleValue): void {
    const agent = workspace.agent;
    if (status !== 'connected') {
      for (const timer of agent.timers) clearTimeout(timer);
      agent.timers = [];
    }
    agent.status = status;
    agent.lifecycle = lifecycle;
    agent.updatedAt = now();
    this.events.emit(`workspace:${workspace.id}`);
  }

  private setBuildStatus(build: SimBuild, status: S.WorkspaceStatusValue): void {
    build.status = status;
    build.updatedAt = now();
    build.workspace.updatedAt = build.updatedAt;
    this.events.emit(`workspace:${build.workspace.id}`);
  }

  private appendLog(build: SimBuild, stage: string, level: 'info' | 'warn' | 'error', output: string): void {
    const log: S.ProvisionerJobLog = {
      id: this.nextLogId++,
      created_at: now(),
      log_source: 'provisioner',
      log_level: level,
      stage,
      output,
    };
    build.logs.push(log);
    this.events.emit(`log:${build.id}`, log);
  }

  // ---- JSON views (bodies.ts) ----

  private get bodyContext(): BodyContext {
    return {
      organization: this.organization,
      templateOf: (workspace) => this.catalog.templates.get(workspace.templateId)!,
      versionOf: (workspace) => this.versionOf(workspace),
      connectionTimeoutSeconds: this.connectionTimeoutSeconds,
      subdomainApps: this.options.subdomainApps ?? false,
      appLabelWithAgent: this.options.appLabelWithAgent ?? false,
      queue: (build) => this.queueOf(build),
      matchedProvisioners: () => this.options.provisioners.matched(),
    };
  }

  /** coderd's queue figures for a pending job (provisioners.ts). */
  private queueOf(build: SimBuild): { position: number; size: number } {
    return this.options.provisioners.queueOf(build.job);
  }

  buildJson(build: SimBuild): S.WorkspaceBuild {
    return buildBody(this.bodyContext, build);
  }

  workspaceJson(workspace: SimWorkspace): S.Workspace {
    return workspaceBody(this.bodyContext, workspace, this.latestBuild(workspace));
  }

  /** Stops every timer (the deployment is closing). */
  dispose(): void {
    this.catalog.dispose();
    for (const workspace of this.workspaces.values()) {
      for (const timer of workspace.agent.timers) clearTimeout(timer);
      for (const build of workspace.builds) for (const timer of build.timers) clearTimeout(timer);
    }
    this.events.removeAllListeners();
  }
}
