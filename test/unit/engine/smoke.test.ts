// The engine's public surface holds together: the registry's stages, the default plan and its
// thresholds agree with each other.
import * as assert from 'assert';
import { defaultPlan, enabledStages, parseThreshold, planJsonSchema, stageTitle, validatePlan } from '../../../src/engine';
import { allStages } from '../../../src/engine/stages/registry';

describe('smoke: engine surface', () => {
  it('lists every stage in run order, with a title and a distinct colour for each traffic stage', () => {
    assert.deepStrictEqual(
      allStages().map((stage) => stage.id),
      ['prepare', 'ssh', 'pty', 'apps', 'dashboard', 'dynamic_parameters', 'workspace_updates', 'morning_rush', 'cleanup'],
    );
    assert.deepStrictEqual(
      allStages().map((stage) => stageTitle(stage.id)),
      [
        'Prepare',
        'SSH',
        'Web terminal',
        'Workspace apps',
        'Dashboard',
        'Dynamic parameters',
        'Workspace updates',
        'Morning rush',
        'Cleanup',
      ],
    );
    // Six theme colours: the stages of the default plan (the reference methodology) never share
    // one; an opt-in stage may repeat one of them.
    const enabled = new Set(enabledStages(defaultPlan()).map((stage) => stage.id));
    const colours = allStages()
      .filter((stage) => enabled.has(stage.id) || stage.id === 'prepare' || stage.id === 'cleanup')
      .map((stage) => stage.color);
    assert.strictEqual(new Set(colours).size, colours.length, `colours repeat: ${colours.join(', ')}`);
    assert.strictEqual(stageTitle('unknown-stage'), 'unknown-stage', 'an unknown id is shown as itself');
  });

  it('the default plan validates again unchanged, enables every traffic stage and only names known metrics', () => {
    const plan = defaultPlan();
    assert.deepStrictEqual(validatePlan(JSON.parse(JSON.stringify(plan))), plan);
    assert.deepStrictEqual(
      enabledStages(plan).map((stage) => stage.id),
      ['ssh', 'pty', 'apps', 'dashboard'],
    );
    const metrics = plan.thresholds.map((threshold) => parseThreshold(threshold.expression).metric);
    const prefixes = new Set(metrics.map((metric) => metric.split('.')[0]));
    assert.deepStrictEqual([...prefixes].sort(), [
      'api',
      'apps',
      'dashboard',
      'deployment',
      'dynamic_parameters',
      'morning_rush',
      'prepare',
      'pty',
      'ssh',
      'workspace_updates',
    ]);
  });

  it('the plan schema has a timeline window and a traffic section per traffic stage', () => {
    const properties = planJsonSchema().properties as Record<string, { properties: Record<string, unknown> }>;
    const stages = ['ssh', 'pty', 'apps', 'dashboard', 'dynamic_parameters', 'workspace_updates', 'morning_rush'];
    assert.deepStrictEqual(Object.keys(properties.traffic.properties), stages);
    assert.deepStrictEqual(Object.keys(properties.timeline.properties), ['slotSeconds', ...stages]);
  });
});
