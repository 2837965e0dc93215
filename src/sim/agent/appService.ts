// The `wsec` echo app every simulated workspace runs. HTTP: answers 200 with the request body
// as sent (or, when there is none, "<METHOD> <path>\n") and the method and path in
// X-Echo-Method / X-Echo-Path. WebSocket: sends every frame back as received (binary stays
// binary). Other slugs do not exist on the simulated template.
import type * as http from 'http';
import type { Duplex } from 'stream';
import { WebSocketServer } from 'ws';
import type { AgentRef } from '../agentServices';
import type { LiveConnections } from './liveConnections';

export const ECHO_APP_SLUG = 'wsec';
/** Bounds an echoed HTTP body so a client cannot make the simulator buffer without end. */
const MAX_HTTP_BODY_BYTES = 16 * 1024 * 1024;

export class AppService {
  private readonly server = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_HTTP_BODY_BYTES });

  constructor(private readonly live: LiveConnections) {}

  handleRequest(req: http.IncomingMessage, res: http.ServerResponse, slug: string, rest: string): void {
    if (slug !== ECHO_APP_SLUG) return appNotFound(res, slug);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_HTTP_BODY_BYTES) {
        res.writeHead(413, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
        res.end(`The echo app accepts bodies up to ${MAX_HTTP_BODY_BYTES} bytes.\n`);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const method = req.method ?? 'GET';
      const body = size > 0 ? Buffer.concat(chunks) : Buffer.from(`${method} ${rest}\n`);
      res.writeHead(200, {
        'Content-Type': size > 0 ? (req.headers['content-type'] ?? 'application/octet-stream') : 'text/plain; charset=utf-8',
        'Content-Length': body.length,
        'X-Echo-Method': method,
        'X-Echo-Path': rest,
      });
      res.end(method === 'HEAD' ? undefined : body);
    });
  }

  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, agent: AgentRef, slug: string): void {
    if (slug !== ECHO_APP_SLUG) {
      socket.end(
        `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ message: `App "${slug}" not found.` })}`,
      );
      return;
    }
    this.server.handleUpgrade(req, socket, head, (ws) => {
      const release = this.live.add('app', 'apps', agent, () => ws.terminate());
      const loaded = this.live.echoDelay('apps', agent);
      ws.on('error', () => {});
      ws.on('close', () => {
        loaded.cancel();
        release();
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => loaded.run(() => ws.send(data, { binary: isBinary })));
    });
  }

  close(): void {
    for (const client of this.server.clients) client.terminate();
    this.server.close();
  }
}

function appNotFound(res: http.ServerResponse, slug: string): void {
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ message: `App "${slug}" not found.` }));
}
