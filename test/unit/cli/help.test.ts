import * as assert from 'assert';
import { COMMANDS, usageOverview } from '../../../src/cli/commandSpecs';

describe('coder-scaletest --help', () => {
  it('keeps every usage apart from its summary: two spaces at least, or the summary on the next line', () => {
    const overview = usageOverview();
    for (const spec of Object.values(COMMANDS)) {
      const usage = `coder-scaletest ${spec.name} ${spec.usage}`;
      const at = overview.indexOf(usage);
      assert.ok(at >= 0, `${spec.name} is in the overview`);
      const after = overview.slice(at + usage.length);
      assert.match(after, /^( {2,}|\n {2,})\S/, `${spec.name}: "${after.slice(0, 20)}" runs into its usage`);
      assert.ok(after.trimStart().startsWith(spec.summary), `${spec.name}'s summary follows its usage`);
    }
    assert.ok(
      Object.values(COMMANDS).some((spec) => `  coder-scaletest ${spec.name} ${spec.usage}`.length >= 46),
      'a long usage is among them (the check can fail)',
    );
  });
});
