// The one HTTP(S) request helper of the client side (REST client, app traffic, CLI download,
// monitors): timeout, TLS/lookup options and abort are handled here once. Errors: the
// caller's abort reason when its signal aborts, HttpTimeoutError when the deadline passes,
// otherwise Node's network error (with its `code`).
import * as http from 'http';
import * as https from 'https';

export class HttpTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

export interface HttpRequestOptions {
  url: string | URL;
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  signal?: AbortSignal;
  /** Keep-alive pool to use. */
  agent?: http.Agent;
  /** Connection options: TLS trust (`ca`, `rejectUnauthorized`) and a custom `lookup`. */
  socket?: https.RequestOptions;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The caller's reason for aborting, as an Error. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error('aborted');
  error.name = 'AbortError';
  return error;
}

/**
 * Sends a request and resolves with the response as a stream once its headers arrive (for
 * downloads); `idleTimeoutMs` limits any silence on the socket, the body included.
 */
export function openHttpResponse(options: HttpRequestOptions & { idleTimeoutMs: number }): Promise<http.IncomingMessage> {
  const url = new URL(options.url);
  const transport = url.protocol === 'https:' ? https : http;
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    let response: http.IncomingMessage | undefined;
    const request = transport.request(
      url,
      {
        ...options.socket,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent,
        signal,
        timeout: options.idleTimeoutMs,
      },
      (answer) => resolve((response = answer)),
    );
    // Silence before the headers fails the request; silence in the body fails the body stream.
    request.on('timeout', () => (response ?? request).destroy(new HttpTimeoutError(options.idleTimeoutMs)));
    request.on('error', (error) => reject(signal?.aborted ? abortReason(signal) : error));
    request.end(options.body);
  });
}

/** One request with its whole response read within `timeoutMs`. */
export async function httpRequest(options: HttpRequestOptions & { timeoutMs: number }): Promise<HttpResponse> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  try {
    const response = await openHttpResponse({ ...options, signal, idleTimeoutMs: options.timeoutMs });
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) };
  } catch (error) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    if (deadline.aborted || error instanceof HttpTimeoutError) throw new HttpTimeoutError(options.timeoutMs);
    throw error;
  }
}
