// The run's journal: a crash-proof, append-only record of every user and workspace the run asks
// coderd to create. A record of the intent is on disk (written and fdatasync'd) before the
// create request is sent, and a second record carries the id coderd returned, so a runner
// killed at any moment (SIGKILL, OOM, a lost machine) leaves a file that names everything that
// may exist; `cleanup --run-id` deletes from it (docs: RELIABILITY.md, "The journal").
//
// One JSON object per line (NDJSON). Writes are group-committed: records that arrive while a
// write + fdatasync is in flight go out together in the next one, so 50 concurrent creates cost
// one disk flush, not 50, and the flush runs off the event loop. No secrets are written: no
// password, no token.
import * as fs from 'fs';
import * as path from 'path';
import { CoderApiError } from '../../coder/errors';

export const JOURNAL_FILE = 'journal.ndjson';
const JOURNAL_VERSION = 1;

export type ResourceKind = 'user' | 'workspace';

/**
 * `intent` … `created`/`refused` for every create; a workspace a traffic stage creates (not
 * prepare) names the `stage`. `changed`: a stage set (or with null cleared) a workspace's
 * autostart schedule, recorded before the request. `deleted`: the run (its cleanup, or the
 * stage that created it) deleted it or found it gone.
 */
export type JournalRecord =
  | { v: number; type: 'run'; runId: string; url: string; pid: number; at: string }
  | { type: 'intent'; kind: 'user'; key: string; username: string; email: string; at: string }
  | { type: 'intent'; kind: 'workspace'; key: string; owner: string; ownerId: string; name: string; stage?: string; at: string }
  | { type: 'created'; kind: ResourceKind; key: string; id: string; at: string }
  | { type: 'refused'; kind: ResourceKind; key: string; status: number; at: string }
  | { type: 'changed'; kind: 'workspace'; id: string; name: string; stage: string; autostart: string | null; at: string }
  | { type: 'deleted'; kind: ResourceKind; id: string; name: string; at: string };

type Body<T> = T extends unknown ? Omit<T, 'at'> : never;

/** The journal could not be written: nothing more is created (fail closed). */
export class JournalError extends Error {
  constructor(file: string, cause: unknown) {
    super(
      `cannot write the run's journal ${file}: ${(cause as Error).message}; nothing more is created, so that nothing exists that the journal does not name`,
    );
    this.name = 'JournalError';
  }
}

/** A journal that cannot be applied: another run's, another deployment's, or not one of ours. */
export class JournalReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalReadError';
  }
}

interface Pending {
  line: string;
  resolve(): void;
  reject(error: Error): void;
}

export class ResourceJournal {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private failure: JournalError | undefined;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly handle: fs.promises.FileHandle,
  ) {}

  /**
   * Creates `dir` and the journal in it (append mode: a second opener adds to it), writes the
   * header record and makes both the file and its directory entry durable.
   */
  static async open(dir: string, header: { runId: string; url: string }): Promise<ResourceJournal> {
    await fs.promises.mkdir(dir, { recursive: true });
    const file = path.join(dir, JOURNAL_FILE);
    const handle = await fs.promises.open(file, 'a', 0o600);
    const journal = new ResourceJournal(file, handle);
    try {
      await journal.append({ v: JOURNAL_VERSION, type: 'run', runId: header.runId, url: header.url, pid: process.pid });
      await syncDirectory(dir);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return journal;
  }

  /** Resolves once the record is on disk; rejects (and every later record too) when it cannot be. */
  append(record: Body<JournalRecord>): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new JournalError(this.file, new Error('the journal is closed')));
    const line = `${JSON.stringify({ ...record, at: new Date().toISOString() })}\n`;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      try {
        await this.handle.appendFile(batch.map((entry) => entry.line).join(''));
        await this.handle.datasync();
        for (const entry of batch) entry.resolve();
      } catch (error) {
        this.failure = new JournalError(this.file, error);
        for (const entry of [...batch, ...this.queue.splice(0)]) entry.reject(this.failure);
      }
    }
  }

  /** Waits for records under way, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
    await this.handle.close().catch(() => undefined);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // A directory fsync makes the new file's name durable; not every platform allows it.
  const handle = await fs.promises.open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Windows and some file systems refuse fsync on a directory: the file's own sync stands.
  } finally {
    await handle.close();
  }
}

// ---- reading ----

/** One resource the journal names, folded over its records. */
export interface JournalEntry {
  kind: ResourceKind;
  key: string;
  /** Username (user) or workspace name. */
  name: string;
  /** A workspace's owner (username). */
  owner?: string;
  email?: string;
  /** coderd's id, once the create was answered. */
  id?: string;
  /** The traffic stage that created it (prepare's resources name none). */
  stage?: string;
  /** The autostart schedule a stage last set on it and did not clear. */
  autostart?: string;
  /**
   * `pending`: the request may or may not have reached coderd (killed before the answer);
   * `created`: coderd answered with `id`; `refused`: coderd answered 4xx, nothing exists;
   * `deleted`: the run deleted it (or found it gone).
   */
  state: 'pending' | 'created' | 'refused' | 'deleted';
}

export interface RunJournal {
  runId: string;
  /** The deployment the run created the resources on. */
  url: string;
  files: string[];
  entries: JournalEntry[];
  /** Lines that could not be read (a torn last line after a crash, say), with where. */
  problems: string[];
}

/** Every journal file under a run's directory (a sharded local run has one per shard). */
export function findJournalFiles(runDir: string, depth = 4): string[] {
  const found: string[] = [];
  const walk = (dir: string, level: number) => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of names) {
      const full = path.join(dir, entry.name);
      if (entry.isFile() && entry.name === JOURNAL_FILE) found.push(full);
      else if (entry.isDirectory() && level < depth) walk(full, level + 1);
    }
  };
  walk(runDir, 0);
  return found.sort();
}

/**
 * Reads the journals of `runId` under `runDir`; undefined when there is none. Records of
 * another run id make the whole read fail: a journal is never applied to the wrong run.
 */
export function readRunJournal(runDir: string, runId: string): RunJournal | undefined {
  const files = findJournalFiles(runDir);
  if (files.length === 0) return undefined;
  const byKey = new Map<string, JournalEntry>();
  const byId = new Map<string, JournalEntry>();
  const byName = new Map<string, JournalEntry>();
  const problems: string[] = [];
  let url: string | undefined;
  for (const file of files) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((text, index) => {
      if (!text.trim()) return;
      let record: JournalRecord;
      try {
        record = JSON.parse(text) as JournalRecord;
      } catch {
        problems.push(`${file}:${index + 1}: not a record${index === lines.length - 1 ? ' (cut short by a crash)' : ''}`);
        return;
      }
      if (record.type === 'run') {
        if (record.runId !== runId) throw new JournalReadError(`${file} is the journal of run ${record.runId}, not of run ${runId}`);
        if (url && record.url !== url)
          throw new JournalReadError(`${file} names deployment ${record.url}, another journal of the run names ${url}`);
        url = record.url;
        return;
      }
      fold(record, { byKey, byId, byName }, problems, `${file}:${index + 1}`);
    });
  }
  if (!url) throw new JournalReadError(`the journal of run ${runId} (${files.join(', ')}) has no header: it is not one this tool wrote`);
  return { runId, url, files, entries: [...byKey.values()], problems };
}

interface Indexes {
  byKey: Map<string, JournalEntry>;
  byId: Map<string, JournalEntry>;
  /** `kind:name`: a resource the run found by name (after a lost answer) is deleted by name too. */
  byName: Map<string, JournalEntry>;
}

function fold(record: JournalRecord, { byKey, byId, byName }: Indexes, problems: string[], where: string) {
  switch (record.type) {
    case 'intent': {
      const entry: JournalEntry =
        record.kind === 'user'
          ? { kind: 'user', key: record.key, name: record.username, email: record.email, state: 'pending' }
          : {
              kind: 'workspace',
              key: record.key,
              name: record.name,
              owner: record.owner,
              ...(record.stage ? { stage: record.stage } : {}),
              state: 'pending',
            };
      byKey.set(record.key, entry);
      byName.set(`${entry.kind}:${entry.name}`, entry);
      return;
    }
    case 'created':
    case 'refused': {
      const entry = byKey.get(record.key);
      if (!entry) {
        problems.push(`${where}: ${record.type} ${record.key} without its intent`);
        return;
      }
      if (record.type === 'created') {
        entry.id = record.id;
        byId.set(record.id, entry);
        if (entry.state === 'pending') entry.state = 'created';
      } else if (entry.state === 'pending') entry.state = 'refused';
      return;
    }
    case 'changed': {
      const entry = byId.get(record.id) ?? byName.get(`workspace:${record.name}`);
      if (entry && record.autostart) entry.autostart = record.autostart;
      else if (entry) delete entry.autostart;
      return;
    }
    case 'deleted': {
      const entry = byId.get(record.id) ?? byName.get(`${record.kind}:${record.name}`);
      if (entry) {
        entry.id ??= record.id;
        entry.state = 'deleted';
      }
      return;
    }
    default:
      problems.push(`${where}: unknown record type`);
  }
}

// ---- recording a create ----

export type IntentRecord = Extract<Body<JournalRecord>, { type: 'intent' }>;

/**
 * Runs one create request under the journal's rule: the intent is on disk before the request
 * is sent, coderd's id after it answers. Without a journal, just the request. A 4xx answer
 * (other than a rate limit) is recorded as refused: coderd created nothing. A failure to record
 * the id is not thrown — the intent names the resource already, and the journal's failure makes
 * the next intent (and so the next create) fail.
 */
export async function recordCreate<T extends { id: string }>(
  journal: ResourceJournal | undefined,
  intent: IntentRecord,
  create: () => Promise<T>,
): Promise<T> {
  if (!journal) return create();
  await journal.append(intent);
  let result: T;
  try {
    result = await create();
  } catch (error) {
    const status = error instanceof CoderApiError ? error.status : undefined;
    if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
      await journal.append({ type: 'refused', kind: intent.kind, key: intent.key, status }).catch(() => undefined);
    }
    throw error;
  }
  await journal.append({ type: 'created', kind: intent.kind, key: intent.key, id: result.id }).catch(() => undefined);
  return result;
}
