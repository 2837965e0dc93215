// The simulator's parameter forms: a pushed version's own parameters, and the reference chain.
import * as assert from 'assert';
import { renderConditionalParameters, renderStaticParameters } from '../../../src/sim/dynamicParameters';

describe('simulator: dynamic parameter forms', () => {
  it("renders a version's own parameters with the input or the default, and flags an option not offered", () => {
    const region = {
      name: 'region',
      display_name: 'Region',
      description: '',
      type: 'string',
      mutable: true,
      default_value: 'eu',
      options: [
        { name: 'EU', value: 'eu' },
        { name: 'US', value: 'us' },
      ],
    };
    const [byDefault] = renderStaticParameters([region], {});
    assert.deepStrictEqual([byDefault!.value.value, byDefault!.diagnostics], ['eu', []]);
    const [chosen] = renderStaticParameters([region], { region: 'us' });
    assert.strictEqual(chosen!.value.value, 'us');
    const [bad] = renderStaticParameters([region], { region: 'mars' });
    assert.strictEqual(bad!.diagnostics[0]!.detail, 'the value "mars" must be defined as one of options');
  });

  it("follows the reference chain: zero picks One's options, Two follows One, Three follows Two", () => {
    const form = renderConditionalParameters({ zero: 'B', One: '["BB"]' }, { username: 'u', roles: ['member'] });
    const value = (name: string) => form.find((p) => p.name === name)!.value.value;
    assert.deepStrictEqual([value('zero'), value('Two'), value('Three')], ['B', 'BB', 'BBA']);
    assert.deepStrictEqual(
      form.find((p) => p.name === 'four')!.options.map((o) => o.name),
      ['u-BBA', 'member-BBA'],
    );
  });
});
