// coderd's `?follow` log stream of a provisioner job (a workspace build's or a template
// version import's): what is there after `after`, then each new line, one JSON per text frame,
// closed normally when the job ends.
import type { EventEmitter } from 'events';
import type { WebSocket } from 'ws';
import type * as S from '../coder/schemas';

/** Streams `logs` (and the `log:<id>` events that follow) until `done:<id>`; at once closed when the job is over. */
export function streamJobLogs(
  events: EventEmitter,
  id: string,
  logs: S.ProvisionerJobLog[],
  active: boolean,
  ws: WebSocket,
  after: number,
): void {
  const send = (entry: S.ProvisionerJobLog) => ws.send(JSON.stringify(entry));
  for (const entry of logs) if (entry.id > after) send(entry);
  if (!active) {
    ws.close(1000);
    return;
  }
  const onDone = () => ws.close(1000);
  events.on(`log:${id}`, send);
  events.once(`done:${id}`, onDone);
  ws.once('close', () => {
    events.off(`log:${id}`, send);
    events.off(`done:${id}`, onDone);
  });
}
