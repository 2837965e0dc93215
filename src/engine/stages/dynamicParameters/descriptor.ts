// Dynamic parameters (issue 22): users keep the workspace-parameters form open and change a
// parameter every interval (scaletest/dynamicparameters). See runner.ts and
// docs/stages/dynamic-parameters.md.
import { Type, type Static } from '@sinclair/typebox';
import { defineTrafficStage } from '../definition';

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
  // A form that answers within half a second feels immediate; a stale answer is a wrong form.
  defaultThresholds: ['dynamic_parameters.latency.p95 < 500ms', 'dynamic_parameters.mismatches == 0'],
  connectionNoun: 'parameter forms',
  prepares: 'workspaces',
  settings,
  load: async () => (require('./runner') as typeof import('./runner')).dynamicParametersRunner,
});
