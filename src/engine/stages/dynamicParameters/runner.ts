// Dynamic parameters: every user keeps the workspace-parameters form open and changes a
// parameter every interval, the way the dashboard's form does (site/src/pages/…
// WorkspaceParametersPageExperimental: `{id: last + 1, owner_id, inputs}` over
// `/templateversions/{id}/dynamic-parameters`). Coder's runner (scaletest/dynamicparameters/
// run.go) opens the socket, waits for the initial form, sends one change and times the answer;
// this stage keeps doing that for its window. Latency = change sent → the re-rendered form with
// that id. Every answer is checked: each value sent must come back as the parameter's value,
// otherwise the form was rendered from other inputs (stale) — counted, not timed.
import type WebSocket from 'ws';
import { dynamicParameters, type schemas as S } from '../../../coder';
import type { PreparedUser } from '../../prepare/prepare';
import type { StageRunContext, StageRunner } from '../definition';
import type { DynamicParametersSettings } from './descriptor';
import { userConnection } from '../echo/transports';

/** The change the form would send next: one parameter with options set to another option; later parameters left to their defaults. */
export function nextChange(
  parameters: readonly S.PreviewParameter[],
  random: () => number,
): { name: string; inputs: Record<string, string> } | undefined {
  const changeable = parameters.filter((p) => (p.mutable ?? true) && (p.options?.length ?? 0) > 1 && p.type !== 'list(string)');
  if (changeable.length === 0) return undefined;
  const target = changeable[Math.floor(random() * changeable.length)]!;
  const others = target.options!.map((o) => o.value.value).filter((value) => value !== target.value.value);
  const value = others[Math.floor(random() * others.length)]!;
  const inputs: Record<string, string> = {};
  // The values above it in the form stay as they are; the ones below follow their new defaults.
  for (const parameter of parameters) if ((parameter.order ?? 0) < (target.order ?? 0)) inputs[parameter.name] = parameter.value.value;
  inputs[target.name] = value;
  return { name: target.name, inputs };
}

/** Inputs the answer does not carry as the parameter's value: the form was rendered from something else. */
export function staleInputs(response: S.DynamicParametersResponse, inputs: Record<string, string>): string[] {
  return Object.entries(inputs)
    .filter(([name, value]) => {
      const parameter = response.parameters?.find((p) => p.name === name);
      return parameter !== undefined && parameter.value.value !== value;
    })
    .map(([name]) => name);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, ms));
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

async function formUser(context: StageRunContext<DynamicParametersSettings>, user: PreparedUser): Promise<void> {
  const { settings, metrics, signal, endAt, random } = context;
  const versionId = (await user.client.getWorkspace(user.workspaceId, { signal })).latest_build.template_version_id;
  if (!versionId) throw new Error(`workspace ${user.workspaceName} names no template version`);
  let latest: S.DynamicParametersResponse | undefined;
  let waiting: { id: number; inputs: Record<string, string>; sentAt: number; resolve: () => void } | undefined;
  let socket: WebSocket | undefined;
  let nextId = 0;
  let closedByUs = false;
  const open = async () => {
    closedByUs = false;
    let initial: () => void = () => {};
    const initialForm = new Promise<void>((resolve) => (initial = resolve));
    socket = await dynamicParameters({
      connection: userConnection(context.connection, user),
      templateVersionId: versionId,
      ownerId: user.userId,
      signal,
      onFrame: (frame, receivedAt) => {
        metrics.bytesReceived += JSON.stringify(frame).length;
        if (frame.id === -1) {
          latest = frame;
          initial();
          return;
        }
        if (!waiting || frame.id !== waiting.id) return; // an older answer: the form drops it too
        metrics.completed++;
        metrics.figures.answered = metrics.completed;
        const stale = staleInputs(frame, waiting.inputs);
        if (stale.length) {
          metrics.mismatches++;
          metrics.figures.stale = metrics.mismatches;
          metrics.countError('stale');
        } else metrics.latency.record(receivedAt - waiting.sentAt);
        if ((frame.diagnostics ?? []).some((d) => d.severity === 'error')) metrics.countError('diagnostics');
        latest = frame;
        waiting.resolve();
        waiting = undefined;
      },
      onBadFrame: () => metrics.countError('frame'),
      onClose: () => {
        metrics.activeConnections = Math.max(0, metrics.activeConnections - 1);
        if (!closedByUs && !signal.aborted) metrics.disconnects++;
        waiting?.resolve();
      },
    });
    metrics.activeConnections++;
    await Promise.race([initialForm, sleep(context.plan.timeouts.connectSeconds * 1000, signal)]);
    if (!latest) throw new Error('no initial form');
  };
  await open();
  try {
    while (!signal.aborted && Date.now() < endAt) {
      const wait = (settings.intervalSeconds + (random() * 2 - 1) * settings.jitterSeconds) * 1000;
      await sleep(Math.min(wait, endAt - Date.now()), signal);
      if (signal.aborted || Date.now() >= endAt) break;
      if (!socket || socket.readyState !== socket.OPEN) {
        metrics.reconnects++;
        await open();
      }
      const change = nextChange(latest?.parameters ?? [], random);
      if (!change) {
        metrics.countError('no_parameters');
        break;
      }
      const id = ++nextId;
      const text = JSON.stringify({ id, owner_id: user.userId, inputs: change.inputs });
      const answered = new Promise<void>((resolve) => (waiting = { id, inputs: change.inputs, sentAt: performance.now(), resolve }));
      socket!.send(text);
      metrics.sent++;
      metrics.bytesSent += text.length;
      const timedOut = await Promise.race([
        answered.then(() => false),
        sleep(context.plan.timeouts.connectSeconds * 1000, signal).then(() => true),
      ]);
      if (timedOut && waiting?.id === id) {
        metrics.countError('timeout');
        waiting = undefined;
      }
    }
  } finally {
    closedByUs = true;
    socket?.close();
  }
}

export async function runDynamicParameters(context: StageRunContext<DynamicParametersSettings>): Promise<void> {
  context.metrics.targetConnections = context.users.length;
  Object.assign(context.metrics.figures, { answered: 0, stale: 0 });
  await Promise.all(
    context.users.map(async (user) => {
      try {
        await formUser(context, user);
      } catch (error) {
        if (!context.signal.aborted) {
          context.metrics.countError('connect');
          context.log('warn', `${user.username}: ${(error as Error).message}`);
        }
      }
    }),
  );
}

export const dynamicParametersRunner: StageRunner<DynamicParametersSettings> = { run: runDynamicParameters };
