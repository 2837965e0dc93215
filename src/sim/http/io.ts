// Reading requests and writing answers the way coderd does (JSON bodies, query parsing,
// session tokens, error bodies on plain responses and on refused upgrades).
import * as http from 'http';
import type { Duplex } from 'stream';
import { parseAs, SchemaMismatchError } from '../../coder/validate';
import { errorBody, HttpError, validationFailed } from './errors';

const MAX_BODY_BYTES = 1 << 20;

export function sendJson(res: http.ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent) return;
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

export function sendError(res: http.ServerResponse, error: unknown, log: (line: string) => void): void {
  if (error instanceof HttpError) {
    for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
    if (error.status === 428) {
      res.writeHead(428, { 'Content-Type': 'text/plain; charset=utf-8' }).end(error.message);
      return;
    }
    sendJson(res, error.status, errorBody(error));
    return;
  }
  log(`sim: internal error: ${(error as Error).message}`);
  sendJson(res, 500, { message: 'An internal server error occurred.', detail: (error as Error).message });
}

/** Answers a refused upgrade with a plain HTTP error response, as coderd does before accepting a WebSocket. */
export function rejectUpgrade(socket: Duplex, error: unknown, buildVersion: string): void {
  const httpError = error instanceof HttpError ? error : new HttpError(500, 'An internal server error occurred.');
  const body = JSON.stringify(errorBody(httpError));
  const extra = Object.entries(httpError.headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${httpError.status} ${http.STATUS_CODES[httpError.status] ?? ''}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Coder-Build-Version: ${buildVersion}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

export async function readJsonBody<T extends Parameters<typeof parseAs>[0]>(req: http.IncomingMessage, schema: T) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'Request body is too large.');
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch (error) {
    throw new HttpError(400, 'Request body must be valid JSON.', (error as Error).message);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'Request body must be valid JSON.', 'expected a JSON object');
  }
  try {
    return parseAs(schema, value, 'request body');
  } catch (error) {
    if (!(error instanceof SchemaMismatchError)) throw error;
    throw validationFailed([{ field: error.field || 'body', detail: `Validation failed: ${error.problem}` }]);
  }
}

/** The session token from the header, the cookie or the query parameter (coderd accepts all three). */
export function tokenOf(req: http.IncomingMessage, url: URL): string | undefined {
  const header = req.headers['coder-session-token'];
  if (typeof header === 'string' && header) return header;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === 'coder_session_token') return decodeURIComponent(value.join('='));
  }
  return url.searchParams.get('coder_session_token') ?? undefined;
}

/** Splits a search query into terms, keeping `key:"quoted value"` together. */
export function searchTerms(q: string): { key?: string; value: string }[] {
  const terms: { key?: string; value: string }[] = [];
  for (const token of q.match(/(?:[^\s"]+:)?"[^"]*"|\S+/g) ?? []) {
    const colon = token.indexOf(':');
    const unquote = (text: string) => text.replace(/^"(.*)"$/, '$1');
    if (colon > 0 && !token.startsWith('"'))
      terms.push({ key: token.slice(0, colon).toLowerCase(), value: unquote(token.slice(colon + 1)) });
    else terms.push({ value: unquote(token) });
  }
  return terms;
}

export function paging(url: URL): { offset: number; limit: number } {
  const read = (name: string) => {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === '') return 0;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) {
      throw new HttpError(400, 'Query parameters have invalid values.', undefined, [
        { field: name, detail: `Query param "${name}" must be a valid non-negative integer (${raw})` },
      ]);
    }
    return value;
  };
  return { offset: read('offset'), limit: read('limit') };
}

export function page<T>(items: T[], { offset, limit }: { offset: number; limit: number }): T[] {
  return items.slice(offset, limit > 0 ? offset + limit : undefined);
}

/** An invalid-boolean error for a query parameter, worded as coderd's httpapi parser does. */
export function booleanQuery(url: URL, name: string, field = name): boolean {
  const raw = url.searchParams.get(name) ?? '';
  if (!['', 'true', 'false', '1', '0'].includes(raw)) {
    throw new HttpError(400, `Invalid boolean value "${raw}" for "${name}" query param.`, undefined, [
      { field, detail: 'Must be a valid boolean' },
    ]);
  }
  return raw === 'true' || raw === '1';
}
