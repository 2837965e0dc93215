// The plan's `search` block (a capacity search instead of a fixed user count): its schema,
// with descriptions for editors, and the checks JSON Schema cannot express.
import { Type, type Static } from '@sinclair/typebox';

/** Same bound as the plan's `users`. */
export const MAX_SEARCH_USERS = 10000;

export const SearchSchema = Type.Object(
  {
    from: Type.Integer({ minimum: 1, maximum: MAX_SEARCH_USERS, description: 'User count of the first step.' }),
    to: Type.Integer({
      minimum: 1,
      maximum: MAX_SEARCH_USERS,
      description: 'Largest user count the search tries (the pool of users and workspaces never grows beyond it).',
    }),
    step: Type.Union([Type.Literal('double'), Type.Integer({ minimum: 1, maximum: MAX_SEARCH_USERS })], {
      default: 'double',
      description: 'How the user count grows until a step fails: "double", or a number of users to add each step.',
    }),
    resolution: Type.Integer({
      minimum: 1,
      maximum: MAX_SEARCH_USERS,
      default: 1,
      description:
        'After the first failing step, bisect between the last pass and the first fail until they are at most this many users apart.',
    }),
    minimum: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_SEARCH_USERS,
        description: 'The run passes (exit 0) when the deployment holds at least this many users. Default: from.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Capacity search instead of a fixed user count: the traffic timeline runs at growing user counts (from, then by step) until a step ' +
      'fails a threshold, then bisects down to the resolution. The verdict says how many users the deployment holds. See docs/search.md.',
  },
);

export type SearchSettings = Static<typeof SearchSchema>;

/** Problems JSON Schema cannot see: the bounds must make sense together and with `users`. */
export function searchProblems(search: SearchSettings, givenUsers: unknown): string[] {
  const problems: string[] = [];
  if (search.from > search.to) problems.push(`search: from (${search.from}) must not be more than to (${search.to})`);
  const minimum = search.minimum ?? search.from;
  if (search.from <= search.to && (minimum < search.from || minimum > search.to)) {
    problems.push(
      `search.minimum: ${minimum} is outside from..to (${search.from}..${search.to}); the search can only show a capacity in that range`,
    );
  }
  if (givenUsers !== undefined && givenUsers !== search.to) {
    problems.push(
      `users: a capacity search sets the user count itself (search.from..search.to); remove users, or set it to search.to (${search.to})`,
    );
  }
  return problems;
}

const STEP_PROBLEM = 'search.step: must be "double" or a whole number of users to add each step (1 or more)';

/** The schema's union reports each branch's complaint about `search.step`: one sentence instead. */
export function withOneStepProblem(problems: string[]): string[] {
  const rest = problems.filter((problem) => !problem.startsWith('search.step:'));
  return rest.length === problems.length ? problems : [...rest, STEP_PROBLEM];
}
