// Coder's reference figures for 2000 users, as published in the "Traffic Projections" and
// "Infrastructure and setup requirements" sections of its scale-testing methodology
// (docs/admin/infrastructure/scale-testing.md in coder/coder). Data only: what each figure is,
// which phase of the run it belongs to, which statistic of which series measures it, and
// whether it grows in proportion to the users. docs/reference-figures.md explains each one.

export const REFERENCE_SOURCE = {
  title: 'Coder docs: Scale Testing (methodology, traffic projections)',
  url: 'https://coder.com/docs/admin/infrastructure/scale-testing',
} as const;

export const REFERENCE_USERS = 2000;

/**
 * Parts of the traffic timeline: `traffic` = any traffic stage running; `dashboard` = the
 * dashboard stage running; `terminalApps` = the web terminal or apps stage running while the
 * dashboard stage is not; `prepare` = workspaces being built.
 */
export type ReferencePhase = 'traffic' | 'dashboard' | 'terminalApps' | 'prepare';

/** The per-scrape series a figure is read from (see collector.ts). */
export type ReferenceSeries =
  | 'coderdCpuCores'
  | 'apiRequestsPerSecond'
  | 'websockets'
  | 'agentLatencyP90Ms'
  | 'agentLatencyP95Ms'
  | 'provisionerCpuCores'
  | 'databaseCpuPercent';

export type ReferenceStatistic = 'median' | 'max' | 'mean';

export interface ReferenceFigure {
  id: string;
  group: 'coderd' | 'provisionerd' | 'database';
  /** Label of the one-line comparison. */
  short: string;
  title: string;
  value: number;
  unit: string;
  phase: ReferencePhase;
  statistic: ReferenceStatistic;
  series: ReferenceSeries;
  /** Grows in proportion to the users (so it is compared per 100 users). */
  linear: boolean;
  /** The methodology's own words. */
  quote: string;
}

export const REFERENCE_FIGURES: readonly ReferenceFigure[] = [
  {
    id: 'coderd.cpu.median',
    short: 'coderd CPU (median)',
    group: 'coderd',
    title: 'coderd CPU, median while traffic runs',
    value: 3,
    unit: 'cores',
    phase: 'traffic',
    statistic: 'median',
    series: 'coderdCpuCores',
    linear: true,
    quote: 'Median CPU usage for coderd: 3 vCPU, peaking at 3.7 vCPU while all tests are running concurrently.',
  },
  {
    id: 'coderd.cpu.peak',
    short: 'coderd CPU (peak)',
    group: 'coderd',
    title: 'coderd CPU, peak while traffic runs',
    value: 3.7,
    unit: 'cores',
    phase: 'traffic',
    statistic: 'max',
    series: 'coderdCpuCores',
    linear: true,
    quote: 'Median CPU usage for coderd: 3 vCPU, peaking at 3.7 vCPU while all tests are running concurrently.',
  },
  {
    id: 'coderd.api.rps.dashboard',
    short: 'API requests during dashboards',
    group: 'coderd',
    title: 'API request rate, median during the dashboard stage',
    value: 350,
    unit: 'req/s',
    phase: 'dashboard',
    statistic: 'median',
    series: 'apiRequestsPerSecond',
    linear: true,
    quote: 'Median API request rate: 350 RPS during dashboard tests, 250 RPS during Web Terminal and workspace apps tests.',
  },
  {
    id: 'coderd.api.rps.terminalApps',
    short: 'API requests during web terminal and apps',
    group: 'coderd',
    title: 'API request rate, median during web terminal and apps',
    value: 250,
    unit: 'req/s',
    phase: 'terminalApps',
    statistic: 'median',
    series: 'apiRequestsPerSecond',
    linear: true,
    quote: 'Median API request rate: 350 RPS during dashboard tests, 250 RPS during Web Terminal and workspace apps tests.',
  },
  {
    id: 'coderd.agents.latency.p90',
    short: 'Agent connection latency p90',
    group: 'coderd',
    title: 'Workspace agent connection latency, p90 over the agents',
    value: 60,
    unit: 'ms',
    phase: 'traffic',
    statistic: 'median',
    series: 'agentLatencyP90Ms',
    linear: false,
    quote: '2000 workspace daemon API connections with latency: p90 at 60 ms, p95 at 220 ms.',
  },
  {
    id: 'coderd.agents.latency.p95',
    short: 'Agent connection latency p95',
    group: 'coderd',
    title: 'Workspace agent connection latency, p95 over the agents',
    value: 220,
    unit: 'ms',
    phase: 'traffic',
    statistic: 'median',
    series: 'agentLatencyP95Ms',
    linear: false,
    quote: '2000 workspace daemon API connections with latency: p90 at 60 ms, p95 at 220 ms.',
  },
  {
    id: 'coderd.websockets.dashboard',
    short: 'WebSockets during dashboards',
    group: 'coderd',
    title: 'WebSocket connections, average during the dashboard stage',
    value: 2400,
    unit: 'connections',
    phase: 'dashboard',
    statistic: 'mean',
    series: 'websockets',
    linear: true,
    quote: 'on average 2400 Web Socket connections during dashboard tests.',
  },
  {
    id: 'provisionerd.cpu.median',
    short: 'Provisioner daemon CPU (median)',
    group: 'provisionerd',
    title: 'Provisioner daemon CPU, median while workspaces are built',
    value: 0.35,
    unit: 'cores',
    phase: 'prepare',
    statistic: 'median',
    series: 'provisionerCpuCores',
    // Per provisioner daemon (each runs one build at a time), not per user.
    linear: false,
    quote: 'Median CPU usage is 0.35 vCPU during workspace provisioning.',
  },
  {
    id: 'database.cpu.median',
    short: 'Database CPU (median)',
    group: 'database',
    title: 'Database CPU utilisation, median while traffic runs',
    value: 80,
    unit: '%',
    phase: 'traffic',
    statistic: 'median',
    series: 'databaseCpuPercent',
    // A share of the database's own CPUs (2 vCPU in the reference): it depends on its size.
    linear: false,
    quote: 'Median CPU utilization is 80%, with a significant portion dedicated to writing workspace daemon metadata.',
  },
];

export interface ReferenceSetupItem {
  id: string;
  title: string;
  /** Instances × size. */
  instances: number;
  vcpu: number;
  memoryGb: number;
  /** Sized for the users (so scaled to the run's users). */
  linear: boolean;
}

/** "The basic setup of scale tests environment" of the methodology. */
export const REFERENCE_SETUP: readonly ReferenceSetupItem[] = [
  { id: 'setup.runner', title: 'Scale-test runner', instances: 1, vcpu: 32, memoryGb: 128, linear: true },
  { id: 'setup.coderd', title: 'coderd replicas', instances: 2, vcpu: 4, memoryGb: 16, linear: true },
  { id: 'setup.database', title: 'Database', instances: 1, vcpu: 2, memoryGb: 32, linear: false },
  { id: 'setup.provisioners', title: 'Provisioner daemons', instances: 50, vcpu: 0.5, memoryGb: 0.5, linear: false },
];
