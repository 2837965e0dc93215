// The run view's timeline: each stage's planned window beside when it actually ran, on the
// traffic timeline's T-slots, with a line at now while the run goes on.
import { formatDuration, isFinished } from '../src/protocol/format';
import type { RunSnapshot } from '../src/protocol/snapshot';
import { byId, h, replace } from './dom';
import { stageVerdict } from './verdicts';

export function renderTimeline(snapshot: RunSnapshot): void {
  const container = byId('timeline');
  const stages = snapshot.stages.filter((stage) => stage.plannedStartMs !== undefined && stage.plannedEndMs !== undefined);
  const span = Math.max(snapshot.timelineMs, 1);
  const t0 = snapshot.timelineStartedAt;
  const nowOffset = t0 === undefined ? undefined : Math.min(Math.max(snapshot.now - t0, 0), span);
  const percent = (ms: number) => `${Math.min(Math.max((ms / span) * 100, 0), 100)}%`;
  const slots = snapshot.slotMs > 0 ? Math.round(span / snapshot.slotMs) : 0;

  const rows = stages.map((stage) => {
    const planned = h('div', {
      class: 'bar planned',
      title: `planned ${formatDuration(stage.plannedStartMs!)}–${formatDuration(stage.plannedEndMs!)}`,
    });
    planned.style.left = percent(stage.plannedStartMs!);
    planned.style.width = percent(stage.plannedEndMs! - stage.plannedStartMs!);
    const track = h('div', { class: 'track' }, planned);
    if (t0 !== undefined && stage.startedAt !== undefined) {
      const actual = h('div', { class: `bar actual verdict-bg-${stageVerdict(stage)}` });
      const start = stage.startedAt - t0;
      actual.style.left = percent(start);
      actual.style.width = percent((stage.endedAt ?? snapshot.now) - stage.startedAt);
      track.appendChild(actual);
    }
    return h('div', { class: 'timeline-row' }, h('span', { class: 'timeline-label' }, stage.title), track);
  });
  const axis = h('div', { class: 'timeline-axis', 'aria-hidden': 'true' });
  for (let slot = 0; slot <= slots; slot++) {
    const tick = h('span', {}, `T${slot}`);
    tick.style.left = percent(slot * snapshot.slotMs);
    axis.appendChild(tick);
  }
  const body = h('div', { class: 'timeline-body' }, ...rows);
  if (nowOffset !== undefined && !isFinished(snapshot)) {
    const now = h('div', { class: 'now-line', title: `now: ${formatDuration(nowOffset)} into the timeline` });
    now.style.left = percent(nowOffset);
    body.appendChild(h('div', { class: 'now-layer' }, now));
  }
  const label =
    nowOffset === undefined
      ? 'Traffic has not started yet'
      : `${formatDuration(nowOffset)} of ${formatDuration(span)} into the traffic timeline`;
  replace(
    container,
    h('h2', {}, 'Timeline ', h('span', { class: 'muted num' }, label)),
    body,
    h('div', { class: 'timeline-axis-row' }, h('span', { class: 'timeline-label' }), axis),
  );
}
