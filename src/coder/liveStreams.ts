// coderd's JSON-over-WebSocket streams as a client reads them: the workspace watch
// (`/workspaces/{id}/watch-ws`, one ServerSentEvent per text frame) and the dynamic-parameters
// form (`/templateversions/{id}/dynamic-parameters`, one DynamicParametersResponse per frame).
// Listeners are attached before the handshake, so frames sent right after the upgrade are kept.
import type WebSocket from 'ws';
import type { TSchema, Static } from '@sinclair/typebox';
import type { DeploymentConnection } from './connection';
import { routePath } from './routes';
import * as S from './schemas';
import { parseAs } from './validate';
import { dialWebSocket } from './wsDial';

export interface JsonStreamOptions<T> {
  connection: DeploymentConnection;
  /** Path and query below the access URL. */
  path: string;
  signal?: AbortSignal;
  handshakeTimeoutMs?: number;
  /** Each frame, parsed and checked, with the time it arrived (performance.now()). */
  onFrame(frame: T, receivedAt: number): void;
  /** A frame that is not the expected JSON: the stream is closed after it. */
  onBadFrame?(error: Error): void;
  /** The socket closed (by either side). */
  onClose?(code: number, reason: string): void;
}

/** Opens a JSON text-frame stream; resolves once it is open. */
export async function openJsonStream<Schema extends TSchema>(
  schema: Schema,
  options: JsonStreamOptions<Static<Schema>>,
): Promise<WebSocket> {
  const what = `frame of ${options.path.split('?')[0]}`;
  return dialWebSocket({
    connection: options.connection,
    path: options.path,
    signal: options.signal,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    onCreated(socket) {
      socket.on('message', (data, isBinary) => {
        const receivedAt = performance.now();
        try {
          if (isBinary) throw new Error(`${what}: a binary frame where coderd sends text`);
          options.onFrame(parseAs(schema, JSON.parse(data.toString()), what), receivedAt);
        } catch (error) {
          options.onBadFrame?.(error as Error);
          socket.terminate();
        }
      });
      socket.on('close', (code, reason) => options.onClose?.(code, reason.toString()));
      socket.on('error', () => {}); // reported through close
    },
  });
}

/** The dashboard's live view of one workspace. */
export function watchWorkspace(options: Omit<JsonStreamOptions<S.ServerSentEvent>, 'path'> & { workspaceId: string }): Promise<WebSocket> {
  return openJsonStream(S.ServerSentEvent, { ...options, path: routePath('watchWorkspace', { workspace: options.workspaceId }) });
}

/** The create-workspace form's parameters socket, rendered for `ownerId` (default: the caller). */
export function dynamicParameters(
  options: Omit<JsonStreamOptions<S.DynamicParametersResponse>, 'path'> & { templateVersionId: string; ownerId?: string },
): Promise<WebSocket> {
  const path = routePath('dynamicParameters', { templateversion: options.templateVersionId });
  const query = options.ownerId ? `?user_id=${encodeURIComponent(options.ownerId)}` : '';
  return openJsonStream(S.DynamicParametersResponse, { ...options, path: path + query });
}
