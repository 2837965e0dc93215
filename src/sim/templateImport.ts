// What the simulated provisioner's import job reads from a pushed template (a tar of *.tf
// files): the agents and their apps, the workspace parameters and presets, the template
// variables. coderd runs `terraform plan` for this (provisioner/terraform, parse.go for
// variables and parameters); the simulator reads the HCL text itself — a small reader of the
// subset templates use for these blocks (top-level blocks, `name = value` attributes, nested
// blocks, heredocs), not a Terraform evaluator: references stay text (`coder_agent.main.id`).
import { parseTar } from 'nanotar';

export interface HclBlock {
  type: string;
  labels: string[];
  /** Attribute name → its value's source text (strings unquoted, heredocs resolved). */
  attributes: Record<string, string>;
  blocks: HclBlock[];
}

export interface ImportedApp {
  slug: string;
  displayName: string;
  subdomain: boolean;
  url: string;
}

export interface ImportedAgent {
  /** The `coder_agent` resource's name: what coderd calls the agent. */
  name: string;
  apps: ImportedApp[];
  /** Scripts that run on start (coder_script with run_on_start, or the agent's startup_script). */
  startupScripts: number;
}

export interface ImportedParameter {
  name: string;
  displayName: string;
  description: string;
  type: string;
  defaultValue: string;
  /** coderd: required when the block has no `default`. */
  required: boolean;
  mutable: boolean;
  ephemeral: boolean;
  options: Array<{ name: string; value: string; description: string; icon: string }>;
}

export interface ImportedPreset {
  name: string;
  parameters: Record<string, string>;
  isDefault: boolean;
}

export interface ImportedVariable {
  name: string;
  description: string;
  type: string;
  defaultValue?: string;
  sensitive: boolean;
}

export interface ImportedTemplate {
  agents: ImportedAgent[];
  /** `data "coder_external_auth"`: providers the workspace's user must have linked (unless optional). */
  externalAuth: Array<{ id: string; optional: boolean }>;
  parameters: ImportedParameter[];
  presets: ImportedPreset[];
  variables: ImportedVariable[];
  /** The Terraform files read, in order. */
  files: string[];
  readme: string;
}

/** The import failed the way coderd's provisioner would fail it (job error text). */
export class TemplateImportError extends Error {
  constructor(
    message: string,
    readonly code?: 'REQUIRED_TEMPLATE_VARIABLES',
  ) {
    super(message);
    this.name = 'TemplateImportError';
  }
}

/** Reads a template archive (ustar) into what the import job found. */
export function importTemplateArchive(tar: Uint8Array): ImportedTemplate {
  let entries: Array<{ name: string; type?: string; text: string }>;
  try {
    entries = parseTar(tar).map((entry) => ({ name: entry.name, type: entry.type, text: 'text' in entry ? entry.text : '' }));
  } catch (error) {
    throw new TemplateImportError(`extract archive: ${(error as Error).message}`);
  }
  const terraform = entries
    .filter((entry) => entry.type === 'file' && /^(?:\.\/)?[^/]+\.tf$/.test(entry.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (terraform.length === 0) {
    throw new TemplateImportError(
      "template import provision for start: plan terraform: initialize terraform: no Terraform files (*.tf) in the archive's top directory",
    );
  }
  const readme = entries.find((entry) => /^(?:\.\/)?README\.md$/i.test(entry.name))?.text ?? '';
  const blocks = terraform.flatMap((entry) => parseHcl(entry.text ?? '', entry.name));
  return { ...readTemplate(blocks), files: terraform.map((entry) => entry.name), readme };
}

export function readTemplate(blocks: HclBlock[]): Omit<ImportedTemplate, 'files' | 'readme'> {
  const agents: ImportedAgent[] = blocks
    .filter((block) => block.type === 'resource' && block.labels[0] === 'coder_agent')
    .map((block) => ({
      name: block.labels[1] ?? '',
      apps: [],
      startupScripts: block.attributes.startup_script?.trim() ? 1 : 0,
    }));
  const agentOf = (block: HclBlock) => {
    const reference = /^coder_agent\.([A-Za-z0-9_-]+)\.id$/.exec(block.attributes.agent_id ?? '');
    return agents.find((agent) => agent.name === reference?.[1]);
  };
  for (const block of blocks) {
    if (block.type !== 'resource') continue;
    if (block.labels[0] === 'coder_app') {
      agentOf(block)?.apps.push({
        slug: block.attributes.slug ?? block.labels[1] ?? '',
        displayName: block.attributes.display_name ?? block.attributes.name ?? '',
        subdomain: block.attributes.subdomain === 'true',
        url: block.attributes.url ?? '',
      });
    } else if (block.labels[0] === 'coder_script' && block.attributes.run_on_start === 'true') {
      const agent = agentOf(block);
      if (agent) agent.startupScripts++;
    }
  }
  const parameters = blocks
    .filter((block) => block.type === 'data' && block.labels[0] === 'coder_parameter')
    .map((block): ImportedParameter => ({
      name: block.attributes.name ?? block.labels[1] ?? '',
      displayName: block.attributes.display_name ?? '',
      description: block.attributes.description ?? '',
      type: block.attributes.type ?? 'string',
      defaultValue: block.attributes.default ?? '',
      required: block.attributes.default === undefined,
      mutable: block.attributes.mutable === 'true',
      ephemeral: block.attributes.ephemeral === 'true',
      options: block.blocks
        .filter((option) => option.type === 'option')
        .map((option) => ({
          name: option.attributes.name ?? '',
          value: option.attributes.value ?? '',
          description: option.attributes.description ?? '',
          icon: option.attributes.icon ?? '',
        })),
    }));
  const presets = blocks
    .filter((block) => block.type === 'data' && block.labels[0] === 'coder_workspace_preset')
    .map((block): ImportedPreset => ({
      name: block.attributes.name ?? block.labels[1] ?? '',
      parameters: parseMap(block.attributes.parameters ?? ''),
      isDefault: block.attributes.default === 'true',
    }));
  const variables = blocks
    .filter((block) => block.type === 'variable')
    .map((block): ImportedVariable => ({
      name: block.labels[0] ?? '',
      description: block.attributes.description ?? '',
      type: block.attributes.type ?? 'string',
      ...(block.attributes.default !== undefined ? { defaultValue: block.attributes.default } : {}),
      sensitive: block.attributes.sensitive === 'true',
    }));
  const externalAuth = blocks
    .filter((block) => block.type === 'data' && block.labels[0] === 'coder_external_auth')
    .map((block) => ({ id: block.attributes.id ?? block.labels[1] ?? '', optional: block.attributes.optional === 'true' }));
  return { agents, parameters, presets, variables, externalAuth };
}

/** `{ "a" = "b", c = "d" }` (a map literal's text) → its string entries. */
function parseMap(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const match of text.matchAll(/"?([A-Za-z0-9_.-]+)"?\s*[=:]\s*"((?:[^"\\]|\\.)*)"/g)) map[match[1]!] = unescape(match[2]!);
  return map;
}

function unescape(text: string): string {
  return text.replace(/\\(["\\nt])/g, (_match, char: string) => (char === 'n' ? '\n' : char === 't' ? '\t' : char));
}

// ---- the HCL reader ----

/** Parses the top-level blocks of one file; throws TemplateImportError with file:line on bad syntax. */
export function parseHcl(text: string, file = 'main.tf'): HclBlock[] {
  const reader = new Reader(text, file);
  const blocks: HclBlock[] = [];
  reader.skipSpace();
  while (!reader.done()) {
    const name = reader.identifier();
    reader.skipInlineSpace();
    if (reader.peek() === '=') {
      // A top-level attribute (locals are blocks; this is unusual but valid in .tfvars-like files).
      reader.next();
      reader.value();
    } else blocks.push(reader.block(name));
    reader.skipSpace();
  }
  return blocks;
}

class Reader {
  private index = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  done(): boolean {
    return this.index >= this.text.length;
  }

  peek(offset = 0): string {
    return this.text[this.index + offset] ?? '';
  }

  next(): string {
    return this.text[this.index++] ?? '';
  }

  fail(message: string): never {
    const line = this.text.slice(0, this.index).split('\n').length;
    throw new TemplateImportError(`${this.file}:${line}: ${message}`);
  }

  /** Spaces, newlines and comments (hash, double slash, slash-star). */
  skipSpace(): void {
    for (;;) {
      const char = this.peek();
      if (/\s/.test(char)) this.index++;
      else if (char === '#' || (char === '/' && this.peek(1) === '/')) this.skipLine();
      else if (char === '/' && this.peek(1) === '*') {
        const end = this.text.indexOf('*/', this.index + 2);
        if (end < 0) this.fail('unterminated comment');
        this.index = end + 2;
      } else return;
    }
  }

  skipInlineSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.index++;
  }

  private skipLine(): void {
    const end = this.text.indexOf('\n', this.index);
    this.index = end < 0 ? this.text.length : end + 1;
  }

  identifier(): string {
    const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.index, this.index + 256));
    if (!match) this.fail(`expected a name, found "${this.text.slice(this.index, this.index + 20).split('\n')[0]}"`);
    this.index += match[0].length;
    return match[0];
  }

  /** `TYPE "label"… {` body `}` (TYPE already read). */
  block(type: string): HclBlock {
    const labels: string[] = [];
    for (;;) {
      this.skipInlineSpace();
      const char = this.peek();
      if (char === '"') labels.push(this.quoted());
      else if (char === '{') break;
      else if (/[A-Za-z_]/.test(char)) labels.push(this.identifier());
      else this.fail(`expected a block label or "{" after ${type}`);
    }
    this.next();
    const block: HclBlock = { type, labels, attributes: {}, blocks: [] };
    for (;;) {
      this.skipSpace();
      if (this.done()) this.fail(`block ${type} ${labels.join(' ')} is not closed`);
      if (this.peek() === '}') {
        this.next();
        return block;
      }
      const name = this.identifier();
      this.skipInlineSpace();
      if (this.peek() === '=') {
        this.next();
        block.attributes[name] = this.value();
      } else block.blocks.push(this.block(name));
    }
  }

  /** An attribute value up to the end of its expression: a string, heredoc, or balanced text. */
  value(): string {
    this.skipInlineSpace();
    if (this.peek() === '"') {
      const text = this.quoted();
      return this.restOfExpression(text);
    }
    if (this.peek() === '<' && this.peek(1) === '<') return this.heredoc();
    const start = this.index;
    let depth = 0;
    while (!this.done()) {
      const char = this.peek();
      if (char === '"') {
        this.quoted();
        continue;
      }
      if (char === '<' && this.peek(1) === '<' && depth > 0) {
        this.heredoc();
        continue;
      }
      if (char === '#' || (char === '/' && this.peek(1) === '/')) {
        if (depth === 0) break;
        this.skipLine();
        continue;
      }
      if ('{[('.includes(char)) depth++;
      else if ('}])'.includes(char)) {
        if (depth === 0) break;
        depth--;
      } else if (char === '\n' && depth === 0) break;
      this.index++;
    }
    return this.text.slice(start, this.index).trim();
  }

  /** A quoted string followed by more expression (`"a" == b`): keep the whole text then. */
  private restOfExpression(first: string): string {
    const save = this.index;
    this.skipInlineSpace();
    const char = this.peek();
    if (char === '\n' || char === '' || char === '}' || char === '#' || (char === '/' && this.peek(1) === '/')) {
      this.index = save;
      return first;
    }
    const rest = this.value();
    return `"${first}" ${rest}`.trim();
  }

  quoted(): string {
    this.next();
    let text = '';
    for (;;) {
      if (this.done()) this.fail('unterminated string');
      const char = this.next();
      if (char === '"') return text;
      if (char === '\\') {
        const escaped = this.next();
        text += escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped;
      } else if (char === '$' && this.peek() === '{') {
        // An interpolation may hold quotes of its own: keep it as written.
        const start = this.index - 1;
        let depth = 0;
        do {
          const inner = this.next();
          if (inner === '{') depth++;
          else if (inner === '}') depth--;
          else if (inner === '"') {
            this.index--;
            this.quoted();
          }
          if (this.done()) this.fail('unterminated interpolation');
        } while (depth > 0);
        text += this.text.slice(start, this.index);
      } else text += char;
    }
  }

  heredoc(): string {
    const match = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n/.exec(this.text.slice(this.index, this.index + 128));
    if (!match) this.fail('malformed heredoc');
    this.index += match[0].length;
    const marker = match[2]!;
    const lines: string[] = [];
    for (;;) {
      if (this.done()) this.fail(`heredoc ${marker} is not closed`);
      const end = this.text.indexOf('\n', this.index);
      const line = this.text.slice(this.index, end < 0 ? this.text.length : end);
      this.index = end < 0 ? this.text.length : end + 1;
      if (line.trim() === marker) break;
      lines.push(line);
    }
    if (match[1] === '-') {
      const indent = Math.min(...lines.filter((line) => line.trim()).map((line) => /^[ \t]*/.exec(line)![0].length));
      return lines.map((line) => line.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
    }
    return lines.join('\n');
  }
}
