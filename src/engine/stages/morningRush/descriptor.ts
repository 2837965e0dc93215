// The morning rush (issue 22): every workspace of the run starts at once, through coderd's
// autostart (scaletest/autostart) or start builds at a given rate. See runner.ts and
// docs/stages/morning-rush.md.
import { Type, type Static } from '@sinclair/typebox';
import { defineTrafficStage } from '../definition';
import { rushSummary } from './summary';

const settings = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description:
        "Run the morning rush (opt-in): it stops the run's workspaces and starts them all at once; keep it after the echo stages.",
    }),
    mode: Type.Union([Type.Literal('autostart'), Type.Literal('manual')], {
      default: 'autostart',
      description:
        "autostart: one autostart schedule for every workspace, started by coderd's lifecycle executor (as scaletest/autostart); manual: the runner requests the start builds itself at ratePerSecond.",
    }),
    delaySeconds: Type.Number({
      minimum: 5,
      maximum: 3600,
      default: 120,
      description:
        "autostart: the schedule's minute is at least this far ahead (rounded up to the minute). Coder's runner requires 120: schedules have minute resolution and every workspace must have its schedule before that minute, or coderd starts it a day later. Shorter only for small runs.",
    }),
    ratePerSecond: Type.Number({
      minimum: 0,
      maximum: 10000,
      default: 0,
      description: 'manual: start builds requested per second (0: all at once).',
    }),
    timeoutSeconds: Type.Number({
      minimum: 1,
      maximum: 86400,
      default: 900,
      description: 'How long after the scheduled start every workspace may take to be ready; the rest count as errors (not_ready).',
    }),
  },
  { additionalProperties: false, default: {}, description: "Workspace start rush: the run's workspaces stopped, then started at once." },
);
export type MorningRushSettings = Static<typeof settings>;

export const morningRushStage = defineTrafficStage({
  id: 'morning_rush',
  title: 'Morning rush',
  color: 'orange',
  // After the traffic stages: it stops the run's workspaces before starting them again.
  defaultWindow: [6, 16],
  metrics: ['latency', 'counters'],
  latencyMeaning: 'scheduled start → agent ready',
  // Per workspace, each step of the way from the scheduled minute (scaletest/autostart's
  // job-creation, job-acquired and total latencies), and the time its job waited for a provisioner.
  latencies: {
    build_created: 'scheduled start → start build created',
    build_started: 'scheduled start → build started (a provisioner took its job)',
    build_succeeded: 'scheduled start → build succeeded',
    queue_wait: 'build job created → started (waiting for a provisioner)',
  },
  figures: {
    // Every shard polls the same deployment-wide queue: the largest reading, not the sum.
    queued: { meaning: 'provisioner jobs waiting for a daemon', merge: 'max' },
    building: { meaning: "the run's start builds a provisioner is working on", merge: 'sum' },
    started: { meaning: 'workspaces whose start build a provisioner took', merge: 'sum' },
    succeeded: { meaning: 'workspaces whose start build succeeded', merge: 'sum' },
    ready: { meaning: 'workspaces whose agent is ready', merge: 'sum' },
    queue_peak: { meaning: 'the most provisioner jobs waiting at once', merge: 'max' },
    provisioners: { meaning: 'provisioner daemons online at the end', merge: 'max' },
  },
  charts: [
    {
      id: 'queue',
      title: 'provisioner jobs waiting (solid) and builds running (dashed)',
      unit: 'count',
      lines: [
        { figure: 'queued', label: 'jobs waiting' },
        { figure: 'building', label: 'builds running', dashed: true },
      ],
    },
    {
      id: 'progress',
      title: 'workspaces with a build started, succeeded (dashed), ready (solid)',
      unit: 'count',
      lines: [
        { figure: 'started', label: 'build started', dashed: true, color: 'yellow' },
        { figure: 'succeeded', label: 'build succeeded', dashed: true, color: 'blue' },
        { figure: 'ready', label: 'ready', color: 'green' },
      ],
    },
  ],
  summary: rushSummary,
  // scaletest/autostart/config.go: the autostart build must be created within autostart_timeout
  // of the scheduled time, and each job done within workspace_job_timeout (cli/exp_scaletest.go:
  // 5 min each): the build within the one, the workspace ready within both.
  defaultThresholds: ['morning_rush.build_created.p95 < 300s', 'morning_rush.latency.p95 < 600s'],
  connectionNoun: 'workspaces',
  prepares: 'workspaces',
  settings,
  load: async () => (require('./runner') as typeof import('./runner')).morningRushRunner,
});
