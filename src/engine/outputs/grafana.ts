// `--grafana-url URL` + a service-account token: when the run ends, its stage windows (and the
// run itself) become region annotations in Grafana, through its HTTP API (POST /api/annotations:
// `time`, `timeEnd` in epoch ms, `tags`, `text`; an optional `dashboardUID` ties them to one
// dashboard). Without a dashboard they are organization annotations, which the shipped dashboard
// (docs/grafana/coder-scaletest.json) shows by the tag `coder-scaletest`. A failure to write
// them is a warning: it never changes the run's verdict. The token is never logged.
import type { RunSnapshot } from '../../protocol/snapshot';

export interface GrafanaTarget {
  /** Grafana's base URL, e.g. https://grafana.example.com (a sub-path is kept). */
  url: string;
  /** A service-account token (Authorization: Bearer). */
  token: string;
  /** Ties the annotations to this dashboard; default: organization annotations. */
  dashboardUid?: string;
}

export interface GrafanaAnnotation {
  time: number;
  timeEnd: number;
  tags: string[];
  text: string;
  dashboardUID?: string;
}

export const ANNOTATION_TAG = 'coder-scaletest';

/** Checks the URL before the run starts: a bad one is a usage error, not a late warning. */
export function checkGrafanaUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--grafana-url "${text}" is not a URL; expected e.g. https://grafana.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`--grafana-url must be http:// or https://, got "${url.protocol}"`);
  if (url.username || url.password)
    throw new Error('--grafana-url must not carry credentials: pass the token with --grafana-token-file or GRAFANA_TOKEN');
  return url.toString().replace(/\/$/, '');
}

/** The run's annotations: one region for the run, one per stage that ran. */
export function stageAnnotations(snapshot: RunSnapshot, dashboardUid?: string): GrafanaAnnotation[] {
  const end = snapshot.now;
  const common = [ANNOTATION_TAG, `run:${snapshot.runId}`];
  const annotations: GrafanaAnnotation[] = [
    {
      time: snapshot.startedAt,
      timeEnd: end,
      tags: [...common, 'run', `verdict:${snapshot.verdict}`],
      text: `Scale test ${snapshot.runId} "${snapshot.planName}": ${snapshot.verdict}${snapshot.reason ? ` — ${snapshot.reason}` : ''}`,
    },
  ];
  for (const stage of snapshot.stages) {
    if (stage.startedAt === undefined) continue;
    annotations.push({
      time: stage.startedAt,
      timeEnd: stage.endedAt ?? end,
      tags: [...common, `stage:${stage.name}`, `verdict:${stage.verdict}`],
      text: `${stage.title} (${stage.verdict}) — run ${snapshot.runId}${stage.reason ? `: ${stage.reason}` : ''}`,
    });
  }
  return dashboardUid ? annotations.map((annotation) => ({ ...annotation, dashboardUID: dashboardUid })) : annotations;
}

/** Writes the annotations; resolves with how many Grafana accepted, rejects with what went wrong (no token in it). */
export async function writeAnnotations(target: GrafanaTarget, annotations: GrafanaAnnotation[], timeoutMs = 10_000): Promise<number> {
  let written = 0;
  for (const annotation of annotations) {
    const response = await fetch(`${target.url}/api/annotations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${target.token}` },
      body: JSON.stringify(annotation),
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((error: Error) => {
      throw new Error(`cannot reach Grafana at ${target.url}: ${error.message}`);
    });
    if (!response.ok) {
      const body = (await response.text().catch(() => '')).slice(0, 200);
      const hint =
        response.status === 401 || response.status === 403 ? ' (check the token: it needs the annotations:write permission)' : '';
      throw new Error(`Grafana answered ${response.status} to POST /api/annotations${hint}${body ? `: ${body}` : ''}`);
    }
    written++;
  }
  return written;
}
