// `template push`: puts one of the shipped scale-test templates (templates/<kind>) on a
// deployment the way coderd takes templates and `coder templates push` pushes them
// (cli/templatepush.go): the directory as a tar (POST /files), a template version from it
// (POST /organizations/{org}/templateversions), its import job followed with its logs, then
// the template created (POST /organizations/{org}/templates) or the new version promoted
// (PATCH /templates/{id}/versions). Pushing unchanged files again changes nothing.
import * as fs from 'fs';
import * as path from 'path';
import { createTar } from 'nanotar';
import type { CoderClient } from '../../coder/client';
import { CoderApiError } from '../../coder/errors';
import type * as S from '../../coder/schemas';

export const TEMPLATE_KINDS = ['kubernetes', 'docker'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export const defaultTemplateName = (kind: TemplateKind) => `scaletest-${kind}`;

const DISPLAY_NAMES: Record<TemplateKind, string> = {
  kubernetes: 'Scale test (Kubernetes)',
  docker: 'Scale test (Docker)',
};

/** The shipped template's directory: `templates/<kind>` beside the bundle (dist/) or the sources. */
export function templateDirectory(kind: TemplateKind, from = __dirname): string {
  for (let dir = from, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'templates', kind);
    if (fs.existsSync(path.join(candidate, 'main.tf'))) return candidate;
  }
  throw new Error(`the shipped ${kind} template (templates/${kind}/main.tf) is missing from this installation`);
}

/**
 * The directory's files as a ustar archive (what coderd reads). Deterministic — sorted names,
 * mtime 0, fixed modes — so the same files give the same bytes, and coderd the same file id.
 */
export function packTemplate(directory: string): Buffer {
  const files: Array<{ name: string; data: Buffer }> = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      // Terraform's working files are the provisioner's business, not the template's.
      if (entry.name === '.terraform' || entry.name.startsWith('.git')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`);
      else if (entry.isFile()) files.push({ name: `${prefix}${entry.name}`, data: fs.readFileSync(full) });
    }
  };
  walk(directory, '');
  if (!files.some((file) => file.name.endsWith('.tf'))) throw new Error(`${directory} holds no Terraform file (*.tf)`);
  const attrs = { mtime: 0, uid: 0, gid: 0, user: '', group: '', mode: '644' };
  return Buffer.from(createTar(files.map((file) => ({ name: file.name, data: new Uint8Array(file.data), attrs }))));
}

export interface PushTemplateOptions {
  /** A client with an owner's (or template admin's) token. */
  owner: CoderClient;
  kind: TemplateKind;
  /** The template's name on the deployment (default scaletest-<kind>). */
  name?: string;
  /** Organization id or name (default: the deployment's default organization). */
  organization?: string;
  /** Values for the template's Terraform variables (`--var NAME=VALUE`). */
  variables?: Record<string, string>;
  /** Overrides the shipped directory (tests, or a customised copy). */
  directory?: string;
  /** Poll interval for the import job (ms). */
  pollMs?: number;
  signal?: AbortSignal;
  /** Progress and the import job's log lines, one per call. */
  log(line: string): void;
}

export interface PushTemplateOutcome {
  template: S.Template;
  /** The version that is now active. */
  versionId: string;
  action: 'created' | 'promoted' | 'unchanged';
  /** What the import found: agents and their apps (the template's start resources). */
  agents: Array<{ name: string; apps: Array<{ slug: string; subdomain: boolean }> }>;
}

/** The push failed; `message` carries coderd's own words. */
export class TemplatePushError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplatePushError';
  }
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export async function pushTemplate(options: PushTemplateOptions): Promise<PushTemplateOutcome> {
  const { owner, kind, log } = options;
  const name = options.name ?? defaultTemplateName(kind);
  if (!/^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/.test(name) || name.length > 32) {
    throw new TemplatePushError(`"${name}" is not a template name coderd takes: letters, digits and single hyphens, at most 32 characters`);
  }
  const organization = await resolveOrganization(owner, options.organization);
  const existing = await owner.templateByName(organization.id, name).catch((error: unknown) => {
    if (error instanceof CoderApiError && error.status === 404) return undefined;
    throw error;
  });

  const directory = options.directory ?? templateDirectory(kind);
  const archive = packTemplate(directory);
  log(`uploading ${directory} (${archive.length} bytes, tar)`);
  const file = await owner.uploadFile(archive);
  const variables = Object.entries(options.variables ?? {}).map(([variable, value]) => ({ name: variable, value }));
  if (existing && file.existed && variables.length === 0) {
    const active = await owner.templateVersion(existing.active_version_id);
    if (active.job.file_id === file.id && active.job.status === 'succeeded') {
      log(`template ${name} is up to date: its active version ${active.name} was pushed from the same files`);
      return { template: existing, versionId: active.id, action: 'unchanged', agents: await agentsOf(owner, active.id) };
    }
  }

  const version = await owner.createTemplateVersion(organization.id, {
    storage_method: 'file',
    file_id: file.id,
    provisioner: 'terraform',
    ...(existing ? { template_id: existing.id } : {}),
    message: `pushed by coder-scaletest (templates/${kind})`,
    tags: {},
    user_variable_values: variables,
  });
  log(`template version ${version.name} created; its import job is ${version.job.status}`);
  if (version.matched_provisioners && version.matched_provisioners.count === 0) {
    log("no provisioner daemon matches the job's tags: the import waits until one does (start provisioners, or check their tags)");
  }
  const imported = await awaitImport(owner, version.id, options);
  if (imported.job.status !== 'succeeded') {
    const why = imported.job.error ? `: ${imported.job.error}` : '';
    const hint =
      imported.job.error_code === 'REQUIRED_TEMPLATE_VARIABLES'
        ? ` — give each variable a value with --var NAME=VALUE`
        : imported.job.status === 'canceled'
          ? ''
          : ' — see the import log above';
    throw new TemplatePushError(`the import job of template version ${imported.name} ${imported.job.status}${why}${hint}`);
  }
  const agents = await agentsOf(owner, version.id);
  for (const agent of agents) {
    log(`agent ${agent.name}: apps ${agent.apps.map((app) => `${app.slug}${app.subdomain ? ' (subdomain)' : ''}`).join(', ') || 'none'}`);
  }

  if (existing) {
    await owner.promoteTemplateVersion(existing.id, version.id);
    log(`template ${name}: version ${version.name} is now the active version`);
    return { template: { ...existing, active_version_id: version.id }, versionId: version.id, action: 'promoted', agents };
  }
  try {
    const template = await owner.createTemplate(organization.id, {
      name,
      template_version_id: version.id,
      display_name: DISPLAY_NAMES[kind],
      description: 'Workspaces for coder-scaletest: one agent, the wsec echo app and its siblings (templates/README.md).',
    });
    log(`template ${name} created in organization ${organization.name}`);
    return { template, versionId: version.id, action: 'created', agents };
  } catch (error) {
    // Created by someone else meanwhile: a second push adds a version to it.
    if (!(error instanceof CoderApiError) || error.status !== 409) throw error;
    throw new TemplatePushError(`${error.apiMessage} (created while this push ran): push again to add a version to it`);
  }
}

async function resolveOrganization(owner: CoderClient, wanted: string | undefined): Promise<S.Organization> {
  const organizations = await owner.organizations();
  const organization = wanted
    ? organizations.find((org) => org.id === wanted || org.name === wanted)
    : (organizations.find((org) => (org as { is_default?: boolean }).is_default) ?? organizations[0]);
  if (!organization) {
    throw new TemplatePushError(
      `organization "${wanted ?? '(default)'}" not found (organizations: ${organizations.map((org) => org.name).join(', ') || 'none'})`,
    );
  }
  return organization;
}

/** Follows the import job's logs and its status until it ends (cancels it when `signal` aborts). */
async function awaitImport(owner: CoderClient, versionId: string, options: PushTemplateOptions): Promise<S.TemplateVersion> {
  const { signal, log } = options;
  const printed = new Set<number>();
  const follow = owner
    .followTemplateVersionLogs(
      versionId,
      (entry) => {
        if (printed.has(entry.id)) return;
        printed.add(entry.id);
        log(`  [${entry.stage}] ${entry.output}`);
      },
      signal,
    )
    .catch(() => undefined); // The status poll below decides; a dropped log stream only loses lines.
  try {
    for (;;) {
      const version = await owner.templateVersion(versionId, signal);
      if (TERMINAL.has(version.job.status)) {
        await Promise.race([follow, new Promise((resolve) => setTimeout(resolve, 1000))]);
        return version;
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('template push stopped');
    }
  } catch (error) {
    if (signal?.aborted) {
      await owner.cancelTemplateVersion(versionId).catch(() => undefined);
      log(`import of template version ${versionId} canceled`);
    }
    throw error;
  }
}

async function agentsOf(owner: CoderClient, versionId: string): Promise<PushTemplateOutcome['agents']> {
  const resources = await owner.templateVersionResources(versionId);
  return resources
    .filter((resource) => (resource.workspace_transition ?? 'start') === 'start')
    .flatMap((resource) => resource.agents ?? [])
    .map((agent) => ({ name: agent.name, apps: (agent.apps ?? []).map((app) => ({ slug: app.slug, subdomain: app.subdomain ?? false })) }));
}
