// The echo target of `npm run bench`, in its own process so the runner's figures are its own:
// a simulated deployment (web terminal, apps, direct SSH) with one ready workspace, and a
// WebSocket echo server that holds every echo for a known time, with periodic stalls (the
// accuracy figure). Prints one JSON line with the addresses, then serves until stdin closes.
import { WebSocketServer } from 'ws';
import { CoderClient } from '../../src/coder/client';
import { startSimDeployment } from '../../src/sim';

const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 20);
const STALL_EVERY_MS = 2000;
const STALL_MS = 200;

async function main(): Promise<void> {
  const sim = await startSimDeployment({
    directSsh: true,
    buildDurationMs: 50,
    agentConnectDelayMs: 10,
    rateLimitPerMinute: 1e9,
    ptyBackend: (process.env.BENCH_PTY_BACKEND as 'screen' | undefined) ?? 'buffered',
  });
  const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
  const [template] = await owner.templates(sim.organizationId);
  const created = await owner.createWorkspace(sim.organizationId, 'me', { template_id: template.id, name: 'bench' });
  await owner.waitForBuild(created.latest_build.id, { pollMs: 50 });
  const workspace = await owner.waitForAgents(created.id, { pollMs: 50, timeoutMs: 10_000 });
  const agent = (workspace.latest_build.resources ?? []).flatMap((resource) => resource.agents ?? [])[0];

  // Echo after DELAY_MS; during a stall (every STALL_EVERY_MS, STALL_MS long) echoes wait for
  // its end. The hold each echo really got is recorded here: the true latency distribution.
  const holds: number[] = [];
  const started = Date.now();
  const delayServer = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  delayServer.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      const now = Date.now();
      const phase = (now - started) % STALL_EVERY_MS;
      const stallLeft = phase < STALL_MS ? STALL_MS - phase : 0;
      const hold = Math.max(DELAY_MS, stallLeft);
      const receivedAt = performance.now();
      setTimeout(() => {
        holds.push(performance.now() - receivedAt);
        socket.send(data, { binary: true });
      }, hold);
    });
  });
  await new Promise((resolve) => delayServer.once('listening', resolve));
  const delayPort = (delayServer.address() as { port: number }).port;
  process.stdout.write(
    JSON.stringify({
      url: sim.url,
      token: sim.ownerToken,
      agentId: agent.id,
      agentName: agent.name,
      owner: workspace.owner_name,
      workspace: workspace.name,
      ssh: sim.directSsh,
      delayUrl: `ws://127.0.0.1:${delayPort}`,
    }) + '\n',
  );
  // "holds" on stdin: the true hold times so far (then reset); EOF: shut down.
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (text: string) => {
    if (text.includes('holds')) {
      process.stdout.write(JSON.stringify({ holds }) + '\n');
      holds.length = 0;
    }
  });
  process.stdin.on('end', async () => {
    owner.close();
    delayServer.close();
    await sim.close();
    process.exit(0);
  });
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
