// The simulated deployment's templates as coderd keeps them: uploaded files (coderd/files.go),
// template versions with their import jobs (coderd/templateversions.go), templates and their
// active version (coderd/templates.go). An import job reads the uploaded tar like coderd's
// provisioner would (templateImport.ts): the agents and apps it declares, its workspace
// parameters and presets, its variables. Workspaces are built from a version and carry its
// agent and apps. The shapes follow /work/notes/template-model.md (fidelity ↔ firstcontact).
import * as crypto from 'crypto';
import type { EventEmitter } from 'events';
import type * as S from '../coder/schemas';
import { templateBody, type OrganizationBody, type TemplateBody } from './bodies';
import {
  importTemplateArchive,
  TemplateImportError,
  type ImportedParameter,
  type ImportedTemplate,
  type ImportedVariable,
} from './templateImport';
import { HttpError } from './http/errors';
import type { SimUser } from './users';

export interface SimFile {
  id: string;
  hash: string;
  createdBy: string;
  mimetype: string;
  data: Buffer;
  createdAt: string;
}

/** codersdk.TemplateVersionParameter, as GET /templateversions/{id}/rich-parameters serves it. */
export interface SimTemplateParameter {
  name: string;
  display_name: string;
  description: string;
  description_plaintext: string;
  type: string;
  form_type?: string;
  mutable: boolean;
  default_value: string;
  icon: string;
  options: Array<{ name: string; description: string; value: string; icon: string }>;
  validation_regex?: string;
  validation_min?: number | null;
  validation_max?: number | null;
  validation_monotonic?: string;
  validation_error?: string;
  required: boolean;
  ephemeral: boolean;
}

/** codersdk.Preset: no JSON tags in Go, so the keys are capitalised. */
export interface SimPreset {
  ID: string;
  Name: string;
  Parameters: Array<{ Name: string; Value: string }>;
  Default: boolean;
  DesiredPrebuildInstances: number | null;
  Description: string;
  Icon: string;
}

export interface SimAppSpec {
  slug: string;
  displayName: string;
  subdomain: boolean;
}

export interface SimAgentSpec {
  name: string;
  apps: SimAppSpec[];
}

export interface SimImportJob {
  id: string;
  fileId: string;
  status: S.ProvisionerJobStatusValue;
  error?: string;
  errorCode?: string;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  canceledAt?: string;
  workerId?: string;
  timers: NodeJS.Timeout[];
}

export interface SimTemplateVersion {
  id: string;
  templateId?: string;
  organizationId: string;
  name: string;
  message: string;
  createdAt: string;
  updatedAt: string;
  createdBy: SimUser;
  readme: string;
  job: SimImportJob;
  logs: S.ProvisionerJobLog[];
  parameters: SimTemplateParameter[];
  presets: SimPreset[];
  /** What the import found: agents and their apps. Empty until the import job succeeded. */
  agents: SimAgentSpec[];
  variables: ImportedVariable[];
  /** `data "coder_external_auth"` blocks: providers a workspace user must have linked. */
  externalAuth: Array<{ id: string; optional: boolean }>;
  /** The agent's startup script duration the lifecycle models (created → starting → ready), ms. */
  startupScriptMs?: number;
  archived: boolean;
}

export interface TemplateCatalogOptions {
  organization: OrganizationBody;
  /** How long an import job takes once started (ms). */
  importDurationMs(): number;
  /** Emits `log:<versionId>` (ProvisionerJobLog) and `done:<versionId>`. */
  events: EventEmitter;
  nextLogId(): number;
}

const now = () => new Date().toISOString();
/** coderd's upload limit (coderd/files.go: 10 * (10 << 20)). */
export const MAX_FILE_BYTES = 10 * (10 << 20);
const ADJECTIVES = ['amazing', 'brave', 'clever', 'dazzling', 'eager', 'festive', 'gallant', 'happy', 'jolly', 'keen'];
const NOUNS = ['babbage', 'curie', 'darwin', 'euler', 'feynman', 'galileo', 'hopper', 'lamport', 'noether', 'turing'];

export class TemplateCatalog {
  readonly files = new Map<string, SimFile>();
  readonly versions = new Map<string, SimTemplateVersion>();
  readonly templates = new Map<string, TemplateBody>();

  constructor(private readonly options: TemplateCatalogOptions) {}

  // ---- files ----

  /** POST /files: the same bytes from the same user are the same file (200), else a new one (201). */
  upload(user: SimUser, mimetype: string, data: Buffer): { file: SimFile; existed: boolean } {
    const hash = crypto.createHash('sha256').update(data).digest('hex');
    for (const file of this.files.values()) if (file.hash === hash && file.createdBy === user.id) return { file, existed: true };
    const file: SimFile = { id: crypto.randomUUID(), hash, createdBy: user.id, mimetype, data, createdAt: now() };
    this.files.set(file.id, file);
    return { file, existed: false };
  }

  // ---- versions ----

  /**
   * POST /organizations/{org}/templateversions: a version with a pending import job, which reads
   * the file once it runs (`runImport`).
   */
  createVersion(user: SimUser, request: S.CreateTemplateVersionRequest): SimTemplateVersion {
    if (request.template_id && !this.templates.has(request.template_id)) throw new HttpError(404, 'Template does not exist.');
    const file = request.file_id ? this.files.get(request.file_id) : undefined;
    if (!file) throw new HttpError(404, 'File not found.');
    const name = request.name || randomVersionName();
    if (request.template_id && [...this.versions.values()].some((v) => v.templateId === request.template_id && v.name === name)) {
      throw new HttpError(409, `A template version with name "${name}" already exists for this template.`, undefined, [
        { field: 'name', detail: 'This value is already in use and should be unique.' },
      ]);
    }
    const created = now();
    const version: SimTemplateVersion = {
      id: crypto.randomUUID(),
      ...(request.template_id ? { templateId: request.template_id } : {}),
      organizationId: this.options.organization.id,
      name,
      message: request.message ?? '',
      createdAt: created,
      updatedAt: created,
      createdBy: user,
      readme: '',
      job: { id: crypto.randomUUID(), fileId: file.id, status: 'pending', createdAt: created, timers: [] },
      logs: [],
      parameters: [],
      presets: [],
      agents: [],
      variables: [],
      externalAuth: [],
      archived: false,
    };
    this.versions.set(version.id, version);
    return version;
  }

  /** How long an import job works once a provisioner has taken it (ms). */
  importDurationMs(): number {
    return Math.max(0, this.options.importDurationMs());
  }

  /** A provisioner took the import job (status running, start time and worker set): its log stages. */
  startImport(version: SimTemplateVersion): void {
    const job = version.job;
    const duration = this.importDurationMs();
    const steps = ['Setting up', 'Parsing template parameters', 'Detecting persistent resources', 'Detecting ephemeral resources'];
    steps.forEach((stage, index) =>
      job.timers.push(setTimeout(() => this.log(version, stage, 'info', `${stage}...`), (duration * index) / (steps.length + 1))),
    );
  }

  /** The import's work is done: what the archive declares, or the failure coderd's provisioner would report. */
  finishImport(version: SimTemplateVersion, values: S.VariableValue[]): void {
    const job = version.job;
    const file = this.files.get(job.fileId)!;
    let imported: ImportedTemplate;
    try {
      imported = importTemplateArchive(file.data);
      const missing = imported.variables.filter(
        (variable) => variable.defaultValue === undefined && !values.some((value) => value.name === variable.name),
      );
      if (missing.length > 0) {
        // coderd's provisioner: a variable without a default needs a value (error code for the CLI to prompt).
        throw new TemplateImportError(
          `required template variables need values: ${missing.map((variable) => variable.name).join(', ')}`,
          'REQUIRED_TEMPLATE_VARIABLES',
        );
      }
    } catch (error) {
      job.status = 'failed';
      job.error = (error as Error).message;
      if (error instanceof TemplateImportError && error.code) job.errorCode = error.code;
      job.completedAt = now();
      this.log(version, 'Planning infrastructure', 'error', job.error);
      this.options.events.emit(`done:${version.id}`);
      return;
    }
    version.agents = imported.agents.map((agent) => ({
      name: agent.name,
      apps: agent.apps.map(({ slug, displayName, subdomain }) => ({ slug, displayName, subdomain })),
    }));
    version.parameters = imported.parameters.map(parameterBody);
    version.presets = imported.presets.map((preset) => ({
      ID: crypto.randomUUID(),
      Name: preset.name,
      Parameters: Object.entries(preset.parameters).map(([Name, Value]) => ({ Name, Value })),
      Default: preset.isDefault,
      DesiredPrebuildInstances: null,
      Description: '',
      Icon: '',
    }));
    version.variables = imported.variables;
    version.externalAuth = imported.externalAuth;
    version.readme = imported.readme;
    for (const agent of imported.agents)
      this.log(version, 'Detecting persistent resources', 'info', `coder_agent.${agent.name}: Plan to create`);
    job.status = 'succeeded';
    job.completedAt = now();
    this.log(version, 'Cleaning Up', 'info', 'Import succeeded');
    this.options.events.emit(`done:${version.id}`);
  }

  /** PATCH /templateversions/{id}/cancel. */
  cancel(version: SimTemplateVersion): void {
    const job = version.job;
    if (job.completedAt) throw new HttpError(400, 'Job has already completed!');
    if (job.canceledAt) throw new HttpError(400, 'Job has already been marked as canceled!');
    for (const timer of job.timers) clearTimeout(timer);
    job.canceledAt = job.completedAt = now();
    job.status = 'canceled';
    this.options.events.emit(`done:${version.id}`);
  }

  private log(version: SimTemplateVersion, stage: string, level: 'info' | 'error', output: string): void {
    const entry: S.ProvisionerJobLog = {
      id: this.options.nextLogId(),
      created_at: now(),
      log_source: 'provisioner',
      log_level: level,
      stage,
      output,
    };
    version.logs.push(entry);
    this.options.events.emit(`log:${version.id}`, entry);
  }

  // ---- templates ----

  /** POST /organizations/{org}/templates (coderd/templates.go postTemplateByOrganization). */
  createTemplate(user: SimUser, request: S.CreateTemplateRequest): TemplateBody {
    if (this.findByName(request.name)) {
      throw new HttpError(409, `Template with name "${request.name}" already exists.`, undefined, [
        { field: 'name', detail: 'This value is already in use and should be unique.' },
      ]);
    }
    const version = this.versions.get(request.template_version_id);
    if (!version) {
      throw new HttpError(404, `Template version "${request.template_version_id}" does not exist.`, undefined, [
        { field: 'template_version_id', detail: 'Template version does not exist' },
      ]);
    }
    if (version.templateId) {
      throw new HttpError(400, `Template version ${version.id} is already part of a template`, undefined, [
        { field: 'template_version_id', detail: 'Template version is already part of a template' },
      ]);
    }
    const template = templateBody(this.options.organization, request.name, user, now());
    Object.assign(template, {
      active_version_id: version.id,
      display_name: request.display_name ?? '',
      description: request.description ?? '',
      icon: request.icon ?? '',
    });
    version.templateId = template.id;
    this.templates.set(template.id, template);
    return template;
  }

  /** PATCH /templates/{id}/versions (coderd/templateversions.go patchActiveTemplateVersion). */
  promote(template: TemplateBody, versionId: string): void {
    const version = this.versions.get(versionId);
    if (!version) throw new HttpError(404, 'Template version not found.');
    if (version.templateId !== template.id)
      throw new HttpError(400, "The provided template version doesn't belong to the specified template.");
    if (version.job.status !== 'succeeded') {
      throw new HttpError(
        403,
        'Only versions that have been built successfully can be promoted.',
        `Attempted to promote a version with a ${version.job.status} build`,
      );
    }
    if (version.archived) throw new HttpError(400, 'The provided template version is archived.');
    template.active_version_id = version.id;
    template.updated_at = now();
  }

  findByName(name: string): TemplateBody | undefined {
    for (const template of this.templates.values()) if (template.name.toLowerCase() === name.toLowerCase()) return template;
    return undefined;
  }

  activeVersion(template: TemplateBody): SimTemplateVersion {
    return this.versions.get(template.active_version_id)!;
  }

  /**
   * A template whose version was imported already (the simulator's built-in one, as if the
   * deployment's first user had pushed it): agent `main` with the echo app.
   */
  seed(
    owner: SimUser,
    name: string,
    agents: SimAgentSpec[],
    extras: { parameters?: SimTemplateParameter[]; presets?: SimPreset[] } = {},
  ): TemplateBody {
    const created = now();
    const version: SimTemplateVersion = {
      id: crypto.randomUUID(),
      organizationId: this.options.organization.id,
      name: `${name}-v1`,
      message: '',
      createdAt: created,
      updatedAt: created,
      createdBy: owner,
      readme: '',
      job: {
        id: crypto.randomUUID(),
        fileId: crypto.randomUUID(),
        status: 'succeeded',
        createdAt: created,
        startedAt: created,
        completedAt: created,
        timers: [],
      },
      logs: [],
      parameters: extras.parameters ?? [],
      presets: extras.presets ?? [],
      agents,
      variables: [],
      externalAuth: [],
      archived: false,
    };
    this.versions.set(version.id, version);
    const template = templateBody(this.options.organization, name, owner, created);
    template.active_version_id = version.id;
    version.templateId = template.id;
    this.templates.set(template.id, template);
    return template;
  }

  dispose(): void {
    for (const version of this.versions.values()) for (const timer of version.job.timers) clearTimeout(timer);
  }
}

function parameterBody(parameter: ImportedParameter): SimTemplateParameter {
  return {
    name: parameter.name,
    display_name: parameter.displayName,
    description: parameter.description,
    description_plaintext: parameter.description,
    type: parameter.type,
    mutable: parameter.mutable,
    default_value: parameter.defaultValue,
    icon: '',
    options: parameter.options.map((option) => ({ ...option })),
    required: parameter.required,
    ephemeral: parameter.ephemeral,
  };
}

/** coderd names unnamed versions with moby's namesgenerator (adjective_scientist). */
function randomVersionName(): string {
  return `${ADJECTIVES[crypto.randomInt(ADJECTIVES.length)]}_${NOUNS[crypto.randomInt(NOUNS.length)]}${crypto.randomInt(10)}`;
}
