// Run by test/sim/support/resultsReporter.test.ts through a child mocha: one pass, one failing
// test and one failing hook, so the results file must say 1 passed, 2 failed.
describe('fixture', () => {
  it('passes', () => {});
  it('fails', () => {
    throw new Error('expected failure');
  });
  describe('with a broken hook', () => {
    before(() => {
      throw new Error('hook failure');
    });
    it('never runs', () => {});
  });
});
