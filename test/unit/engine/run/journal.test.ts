// The run's journal: records on disk before a create is sent, folded back by cleanup.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CoderApiError } from '../../../../src/coder/errors';
import {
  JOURNAL_FILE,
  JournalError,
  JournalReadError,
  readRunJournal,
  recordCreate,
  ResourceJournal,
  type IntentRecord,
} from '../../../../src/engine/run/journal';

const URL = 'https://coder.example.com';
const lines = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const userIntent = (index: number): Extract<IntentRecord, { kind: 'user' }> => ({
  type: 'intent',
  kind: 'user',
  key: `user:${index}`,
  username: `scaletest-abcd${String(index).padStart(4, '0')}-stjournal1`,
  email: `abcd${String(index).padStart(4, '0')}-stjournal1@scaletest.local`,
});

describe('run journal', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scaletest-journal-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('opens with a header naming the run and the deployment, in a directory it creates', async () => {
    const runDir = path.join(dir, 'results', 'stjournal1');
    const journal = await ResourceJournal.open(runDir, { runId: 'stjournal1', url: URL });
    await journal.close();
    const [header] = lines(path.join(runDir, JOURNAL_FILE));
    assert.deepStrictEqual(
      { ...header, at: undefined, pid: undefined },
      {
        v: 1,
        type: 'run',
        runId: 'stjournal1',
        url: URL,
        at: undefined,
        pid: undefined,
      },
    );
  });

  it('has the intent on disk before the create request is sent, and the id after it answered', async () => {
    const journal = await ResourceJournal.open(dir, { runId: 'stjournal1', url: URL });
    const file = path.join(dir, JOURNAL_FILE);
    let seenAtSend: Array<Record<string, unknown>> = [];
    const user = await recordCreate(journal, userIntent(0), async () => {
      seenAtSend = lines(file);
      return { id: 'u-0' };
    });
    await journal.close();
    assert.strictEqual(user.id, 'u-0');
    assert.deepStrictEqual(
      seenAtSend.map((record) => [record.type, record.key]),
      [
        ['run', undefined],
        ['intent', 'user:0'],
      ],
    );
    assert.deepStrictEqual(
      lines(file).map((record) => [record.type, record.key, record.id]),
      [
        ['run', undefined, undefined],
        ['intent', 'user:0', undefined],
        ['created', 'user:0', 'u-0'],
      ],
    );
  });

  it('writes no password or token (only what names the resource)', async () => {
    const journal = await ResourceJournal.open(dir, { runId: 'stjournal1', url: URL });
    await recordCreate(journal, userIntent(0), async () => ({ id: 'u-0', password: 'Secret-passw0rd!', token: 'tok-123' }));
    await journal.close();
    const text = fs.readFileSync(path.join(dir, JOURNAL_FILE), 'utf8');
    assert.ok(!text.includes('Secret-passw0rd!') && !text.includes('tok-123'), text);
  });

  it('records a 4xx answer as refused (nothing exists) and leaves a 5xx or lost answer pending', async () => {
    const journal = await ResourceJournal.open(dir, { runId: 'stjournal1', url: URL });
    const fail = (error: Error) => () => Promise.reject(error);
    await assert.rejects(
      recordCreate(journal, userIntent(1), fail(new CoderApiError(409, 'POST', '/api/v2/users', 'User already exists.'))),
    );
    await assert.rejects(recordCreate(journal, userIntent(2), fail(new CoderApiError(500, 'POST', '/api/v2/users', 'Internal error.'))));
    await assert.rejects(recordCreate(journal, userIntent(3), fail(new Error('socket hang up'))));
    await assert.rejects(recordCreate(journal, userIntent(4), fail(new CoderApiError(429, 'POST', '/api/v2/users', 'rate limited'))));
    await journal.close();
    const states = Object.fromEntries(readRunJournal(dir, 'stjournal1')!.entries.map((entry) => [entry.key, entry.state]));
    assert.deepStrictEqual(states, { 'user:1': 'refused', 'user:2': 'pending', 'user:3': 'pending', 'user:4': 'pending' });
  });

  it('keeps every record of many concurrent creates, each on its own line', async () => {
    const journal = await ResourceJournal.open(dir, { runId: 'stjournal1', url: URL });
    await Promise.all(
      Array.from({ length: 60 }, (_, index) => recordCreate(journal, userIntent(index), async () => ({ id: `u-${index}` }))),
    );
    await journal.close();
    const read = readRunJournal(dir, 'stjournal1')!;
    assert.strictEqual(read.entries.length, 60);
    assert.ok(read.entries.every((entry) => entry.state === 'created' && entry.id === `u-${entry.key.slice(5)}`));
    assert.deepStrictEqual(read.problems, []);
  });

  it('fails closed: once a record cannot be written, no later create is sent', async () => {
    const journal = await ResourceJournal.open(dir, { runId: 'stjournal1', url: URL });
    // The file handle goes away under the journal (as on a full or vanished disk).
    await (journal as unknown as { handle: fs.promises.FileHandle }).handle.close();
    let sent = 0;
    const create = async () => ({ id: `u-${++sent}` });
    await assert.rejects(recordCreate(journal, userIntent(0), create), JournalError);
    await assert.rejects(recordCreate(journal, userIntent(1), create), /cannot write the run's journal/);
    assert.strictEqual(sent, 0, 'no create request was sent');
  });

  it('folds a killed run: created, pending (killed before the answer), refused and deleted entries', async () => {
    const file = path.join(dir, JOURNAL_FILE);
    const at = new Date().toISOString();
    const records = [
      { v: 1, type: 'run', runId: 'stjournal1', url: URL, pid: 1, at },
      { ...userIntent(0), at },
      { type: 'created', kind: 'user', key: 'user:0', id: 'u-0', at },
      {
        type: 'intent',
        kind: 'workspace',
        key: 'workspace:0',
        owner: userIntent(0).username,
        ownerId: 'u-0',
        name: 'scaletest-stjournal1-0',
        at,
      },
      { type: 'created', kind: 'workspace', key: 'workspace:0', id: 'w-0', at },
      { type: 'deleted', kind: 'workspace', id: 'w-0', name: 'scaletest-stjournal1-0', at },
      { ...userIntent(1), at },
      { ...userIntent(2), at },
      { type: 'refused', kind: 'user', key: 'user:2', status: 409, at },
    ];
    // A crash in the middle of the last write leaves a torn line: read past it, say so.
    fs.writeFileSync(file, `${records.map((record) => JSON.stringify(record)).join('\n')}\n{"type":"created","kind":"us`);
    const read = readRunJournal(dir, 'stjournal1')!;
    assert.strictEqual(read.url, URL);
    assert.deepStrictEqual(
      read.entries.map((entry) => [entry.key, entry.state, entry.id ?? null]),
      [
        ['user:0', 'created', 'u-0'],
        ['workspace:0', 'deleted', 'w-0'],
        ['user:1', 'pending', null],
        ['user:2', 'refused', null],
      ],
    );
    assert.strictEqual(read.problems.length, 1);
    assert.match(read.problems[0]!, /cut short by a crash/);
  });

  it("folds a stage's own workspace (naming the stage) and the autostart schedule a stage set, then cleared", async () => {
    const file = path.join(dir, JOURNAL_FILE);
    const at = new Date().toISOString();
    const owner = userIntent(3).username;
    const workspace = (key: string, name: string, stage?: string) => ({
      type: 'intent',
      kind: 'workspace',
      key,
      owner,
      ownerId: 'u-3',
      name,
      ...(stage ? { stage } : {}),
      at,
    });
    const changed = (id: string, name: string, autostart: string | null) => ({
      type: 'changed',
      kind: 'workspace',
      id,
      name,
      stage: 'morning_rush',
      autostart,
      at,
    });
    const records = [
      { v: 1, type: 'run', runId: 'stjournal1', url: URL, pid: 1, at },
      workspace('workspace:3', 'scaletest-stjournal1-3'),
      { type: 'created', kind: 'workspace', key: 'workspace:3', id: 'w-3', at },
      workspace('workspace:1:3', 'scaletest-stjournal1-13', 'workspace_updates'),
      { type: 'created', kind: 'workspace', key: 'workspace:1:3', id: 'w-13', at },
      changed('w-3', 'scaletest-stjournal1-3', 'CRON_TZ=UTC 30 9 * * *'),
      changed('w-13', 'scaletest-stjournal1-13', 'CRON_TZ=UTC 31 9 * * *'),
      changed('w-13', 'scaletest-stjournal1-13', null),
    ];
    fs.writeFileSync(file, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    const read = readRunJournal(dir, 'stjournal1')!;
    assert.deepStrictEqual(read.problems, []);
    assert.deepStrictEqual(
      read.entries.map((entry) => [entry.key, entry.state, entry.id, entry.stage ?? null, entry.autostart ?? null]),
      [
        ['workspace:3', 'created', 'w-3', null, 'CRON_TZ=UTC 30 9 * * *'],
        ['workspace:1:3', 'created', 'w-13', 'workspace_updates', null],
      ],
    );
  });

  it("merges the journals of a sharded run's directory and refuses another run's journal", async () => {
    for (const shard of [0, 1]) {
      const journal = await ResourceJournal.open(path.join(dir, 'shards', String(shard), 'stjournal1'), { runId: 'stjournal1', url: URL });
      await recordCreate(journal, userIntent(shard), async () => ({ id: `u-${shard}` }));
      await journal.close();
    }
    const read = readRunJournal(dir, 'stjournal1')!;
    assert.strictEqual(read.files.length, 2);
    assert.deepStrictEqual(read.entries.map((entry) => entry.id).sort(), ['u-0', 'u-1']);
    assert.throws(() => readRunJournal(dir, 'stother99'), JournalReadError);
    assert.strictEqual(readRunJournal(path.join(dir, 'nothing-here'), 'stjournal1'), undefined);
  });
});
