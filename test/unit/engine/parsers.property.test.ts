// Property-based tests (fast-check) of the parsers that read untrusted bytes: plan files,
// threshold expressions, the terminal stream and build logs. Whatever the input, each either
// returns a value or throws its own, worded error — never a TypeError or a hang.
import * as assert from 'assert';
import fc from 'fast-check';
import { CrlfNormalizer } from '../../../src/coder/echo';
import * as S from '../../../src/coder/schemas';
import { parseAs, SchemaMismatchError } from '../../../src/coder/validate';
import { parsePlanText, PlanError, withLineAndColumn } from '../../../src/engine/plan';
import { parseThreshold } from '../../../src/engine/thresholds';

const RUNS = { numRuns: 300 };

describe('parsers of untrusted bytes (property-based)', () => {
  it('plan text: any string or JSON value is a plan or a PlanError', () => {
    const planText = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((value) => JSON.stringify({ users: 3, ...(typeof value === 'object' && value && !Array.isArray(value) ? value : { name: value }) })));
    fc.assert(
      fc.property(planText, (text) => {
        try {
          const plan = parsePlanText(text, 'p.scaletest.json');
          assert.ok(plan.users >= 1 && plan.timeline.slotSeconds > 0);
        } catch (error) {
          assert.ok(error instanceof PlanError, `${(error as Error).name}: ${(error as Error).message}`);
        }
      }),
      RUNS,
    );
  });

  it('plan text: a JSON syntax error names the line and column of the offending character', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', ' ', '\n', '"', '{', '}', ',', ':', '1') }), { maxLength: 8 }), (parts) => {
        const text = parts.join('');
        let message: string;
        try {
          JSON.parse(text);
          return;
        } catch (error) {
          message = (error as Error).message;
        }
        const position = /at position (\d+)/.exec(message);
        if (!position) return;
        const located = /at line (\d+) column (\d+)/.exec(withLineAndColumn(message, text))!;
        const lines = text.split('\n');
        const offset = lines.slice(0, Number(located[1]) - 1).reduce((sum, line) => sum + line.length + 1, 0) + Number(located[2]) - 1;
        assert.strictEqual(offset, Math.min(Number(position[1]), text.length));
      }),
      RUNS,
    );
  });

  it('threshold expressions: any string parses or throws a worded Error; what parses round-trips', () => {
    const metric = fc.constantFrom('ssh.rtt.p95', 'pty.disconnects', 'api.errors_5xx', 'apps.throughput', 'api.latency.p99', 'x.y');
    const expression = fc.oneof(
      fc.string(),
      fc.tuple(metric, fc.constantFrom('<', '<=', '>', '>=', '==', '!='), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom('', 'ms', 's', '%')).map(
        ([m, op, value, unit]) => `${m} ${op} ${Number(value.toFixed(3))}${unit}`,
      ),
    );
    fc.assert(
      fc.property(expression, (text) => {
        let parsed;
        try {
          parsed = parseThreshold(text);
        } catch (error) {
          assert.ok(error instanceof Error && !(error instanceof TypeError), String(error));
          assert.ok((error as Error).message.length > 10);
          return;
        }
        const again = parseThreshold(parsed.expression);
        assert.deepStrictEqual({ ...again, expression: '' }, { ...parsed, expression: '' });
      }),
      RUNS,
    );
  });

  it('terminal stream: CRLF normalisation gives the same bytes however the stream is chunked', () => {
    const bytes = fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array.map((b) => (b % 4 === 0 ? 0x0d : b % 4 === 1 ? 0x0a : b))));
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(200), { maxLength: 10 }), (data, cuts) => {
        const expected = Buffer.from(data.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
        const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
        const normalizer = new CrlfNormalizer();
        const outputs: Buffer[] = [];
        let start = 0;
        for (const point of [...points, data.length]) {
          outputs.push(normalizer.push(data.subarray(start, point)));
          start = point;
        }
        // A trailing lone '\r' is held for the next chunk; flush it with a non-newline byte.
        const flushed = Buffer.concat([...outputs, normalizer.push(Buffer.from('x'))]);
        assert.deepStrictEqual(flushed, Buffer.concat([expected, Buffer.from('x')]));
      }),
      RUNS,
    );
  });

  it('build log frames: any JSON is a ProvisionerJobLog or a SchemaMismatchError', () => {
    const frame = fc.oneof(
      fc.jsonValue(),
      fc.record({
        id: fc.oneof(fc.integer(), fc.string()),
        created_at: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string()),
        log_source: fc.constantFrom('provisioner', 'provisioner_daemon', 'bogus'),
        log_level: fc.constantFrom('trace', 'debug', 'info', 'warn', 'error', 'loud'),
        stage: fc.string(),
        output: fc.string(),
      }),
    );
    fc.assert(
      fc.property(frame, (value) => {
        try {
          const log = parseAs(S.ProvisionerJobLog, JSON.parse(JSON.stringify(value ?? null)), 'build log frame');
          assert.strictEqual(typeof log.output, 'string');
        } catch (error) {
          assert.ok(error instanceof SchemaMismatchError, `${(error as Error).name}: ${(error as Error).message}`);
        }
      }),
      RUNS,
    );
  });
});
