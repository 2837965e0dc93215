// Dynamic parameters (issue 22): users keep the workspace-parameters form open and change a
// parameter every interval (scaletest/dynamicparameters). See runner.ts and
// docs/stages/dynamic-parameters.md.
import { Type, type Static } from '@sinclair/typebox';
import { formatCount, formatMs } from '../../../protocol/format';
import { defineTrafficStage, type StageSummaryInput } from '../definition';

const settings = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description: "Run the dynamic-parameters stage (opt-in): each user keeps the template's parameter form open and changes a value.",
    }),
    intervalSeconds: Type.Number({
      minimum: 0.1,
      maximum: 3600,
      default: 5,
      description: 'Mean time between parameter changes per user.',
    }),
    jitterSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 2, description: 'Uniform jitter around the interval.' }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'The create-workspace form: parameter changes over the dynamic-parameters WebSocket.',
  },
);
export type DynamicParametersSettings = Static<typeof settings>;

/** "1,204 parameter changes answered: the re-rendered form after 12.0ms (p50), 40.2ms (p95); 0 stale renders". */
export function parametersSummary({ stage }: StageSummaryInput): string | undefined {
  if (stage.sent === 0) return undefined;
  const { latency } = stage;
  const timing = latency.count ? `: the re-rendered form after ${formatMs(latency.p50)} (p50), ${formatMs(latency.p95)} (p95)` : '';
  return (
    `${formatCount(stage.completed)} of ${formatCount(stage.sent)} parameter change(s) answered${timing}; ` +
    `${formatCount(stage.mismatches)} stale render(s), ${formatCount(stage.disconnects)} disconnect(s)`
  );
}

export const dynamicParametersStage = defineTrafficStage({
  id: 'dynamic_parameters',
  title: 'Dynamic parameters',
  color: 'purple',
  defaultWindow: [0, 3],
  metrics: ['latency', 'counters'],
  latencyMeaning: 'parameter change → re-rendered form',
  figures: {
    answered: { meaning: 'parameter changes answered with a re-rendered form', merge: 'sum' },
    stale: { meaning: "answers that rendered other inputs than the change's (stale)", merge: 'sum' },
  },
  charts: [
    {
      id: 'renders',
      title: 'changes answered (solid) and stale renders (dashed)',
      unit: 'count',
      lines: [
        { figure: 'answered', label: 'answered' },
        { figure: 'stale', label: 'stale', dashed: true, color: 'red' },
      ],
    },
  ],
  summary: parametersSummary,
  // A form that answers within half a second feels immediate; a stale answer is a wrong form.
  defaultThresholds: ['dynamic_parameters.latency.p95 < 500ms', 'dynamic_parameters.mismatches == 0'],
  connectionNoun: 'parameter forms',
  prepares: 'workspaces',
  settings,
  load: async () => (require('./runner') as typeof import('./runner')).dynamicParametersRunner,
});
