// A loopback stand-in for Grafana's annotations HTTP API (POST /api/annotations), a MOCK: Grafana
// itself cannot run here. It answers as Grafana documents it ({"message":"Annotation added","id":N})
// and refuses a request without the expected bearer token with 401, as Grafana does.
import * as http from 'http';
import type { AddressInfo } from 'net';

export interface MockGrafana {
  url: string;
  /** Annotations accepted so far, as posted. */
  annotations: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startGrafanaMock(token: string): Promise<MockGrafana> {
  const annotations: Array<Record<string, unknown>> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      if (req.method !== 'POST' || req.url !== '/api/annotations') return json(404, { message: 'Not found' });
      if (req.headers.authorization !== `Bearer ${token}`) return json(401, { message: 'Unauthorized' });
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return json(400, { message: 'bad request data' });
      }
      if (typeof body.time !== 'number' || typeof body.text !== 'string') return json(400, { message: 'bad request data' });
      annotations.push(body);
      json(200, { message: 'Annotation added', id: annotations.length });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    annotations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
