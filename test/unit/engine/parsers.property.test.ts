// Property-based tests (fast-check) of the parsers that read untrusted bytes: plan files,
// threshold expressions, the terminal stream and build logs. Whatever the input, each either
// returns a value or throws its own, worded error — never a TypeError or a hang.
import * as assert from 'assert';
import fc from 'fast-check';
import { TerminalTextFilter } from '../../../src/coder/echo';
import * as S from '../../../src/coder/schemas';
import { parseAs, SchemaMismatchError } from '../../../src/coder/validate';
import { parsePlanText, PlanError } from '../../../src/engine/plan/plan';
import { withLineAndColumn } from '../../../src/engine/plan/errors';
import { parseThreshold } from '../../../src/engine/judge/thresholds';

const RUNS = { numRuns: 300 };

describe('parsers of untrusted bytes (property-based)', () => {
  it('plan text: any string or JSON value is a plan or a PlanError', () => {
    const planText = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .jsonValue()
        .map((value) =>
          JSON.stringify({ users: 3, ...(typeof value === 'object' && value && !Array.isArray(value) ? value : { name: value }) }),
        ),
    );
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
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', ' ', '\n', '"', '{', '}', ',', ':', '1') }), { maxLength: 8 }),
        (parts) => {
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
        },
      ),
      RUNS,
    );
  });

  it('threshold expressions: any string parses or throws a worded Error; what parses round-trips', () => {
    const metric = fc.constantFrom('ssh.rtt.p95', 'pty.disconnects', 'api.errors_5xx', 'apps.throughput', 'api.latency.p99', 'x.y');
    const expression = fc.oneof(
      fc.string(),
      fc
        .tuple(
          metric,
          fc.constantFrom('<', '<=', '>', '>=', '==', '!='),
          fc.double({ min: -1e6, max: 1e6, noNaN: true }),
          fc.constantFrom('', 'ms', 's', '%'),
        )
        .map(([m, op, value, unit]) => `${m} ${op} ${Number(value.toFixed(3))}${unit}`),
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

  it('terminal stream: the filtered text is the same however the stream is chunked, and plain text passes untouched', () => {
    // Bytes rich in ESC, CR, '[', ']', BEL and final bytes, so sequences start and end often.
    const alphabet = [0x1b, 0x0d, 0x0a, 0x5b, 0x5d, 0x07, 0x5c, 0x41, 0x6d, 0x28, 0x42, 0x20, 0x31, 0x3b, 0x78];
    const bytes = fc
      .array(fc.oneof(fc.constantFrom(...alphabet), fc.integer({ min: 0, max: 255 })), { maxLength: 300 })
      .map((array) => Buffer.from(array));
    const filterAll = (chunks: Buffer[]) => {
      const filter = new TerminalTextFilter();
      const parts: Buffer[] = [];
      for (const chunk of chunks) filter.push(chunk, (text) => parts.push(Buffer.from(text)));
      return Buffer.concat(parts);
    };
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(300), { maxLength: 12 }), (data, cuts) => {
        const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let start = 0;
        for (const point of [...points, data.length]) {
          chunks.push(data.subarray(start, point));
          start = point;
        }
        assert.deepStrictEqual(filterAll(chunks), filterAll([data]));
        const plain = Buffer.from(data.filter((byte) => byte !== 0x1b && byte !== 0x0d));
        assert.deepStrictEqual(filterAll([plain]), plain);
      }),
      RUNS,
    );
  });

  it('build log frames: any JSON is a ProvisionerJobLog or a SchemaMismatchError', () => {
    const frame = fc.oneof(
      fc.jsonValue(),
      fc.record({
        id: fc.oneof(fc.integer(), fc.string()),
        created_at: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string(),
        ),
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
