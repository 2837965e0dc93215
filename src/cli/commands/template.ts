// `coder-scaletest template push`: puts a shipped scale-test template on the deployment
// (engine/templates/push.ts), showing the import job's logs; idempotent.
import { CoderClient } from '../../coder/client';
import { CoderApiError } from '../../coder/errors';
import { classifyAccessError } from '../../engine/run/run';
import { pushTemplate, TEMPLATE_KINDS, TemplatePushError, type TemplateKind } from '../../engine/templates/push';
import { parseCommandArgs, stringOption, UsageError, type CommandSpec, type OptionSpec } from '../args';
import { connectionFrom } from '../credentials';
import { EXIT, type CliIo } from '../io';
import { accessProblemText } from '../outcomeText';

export function templateCommandSpec(connectionOptions: OptionSpec[]): CommandSpec {
  return {
    name: 'template',
    summary: 'push the scale-test workspace template to the deployment',
    usage: 'push [--kind kubernetes|docker] [--name NAME] [--var NAME=VALUE]... [options]',
    description: `Pushes one of the shipped scale-test templates (templates/kubernetes, templates/docker: one agent,
the wsec echo app and its siblings as subdomain apps, small resource requests) the way coderd takes
templates: the directory as a tar, a template version, its import job (logs shown), then the
template is created or the new version promoted. Pushing unchanged files again changes nothing.
Then name the template in the plan (deployment.template) and run \`coder-scaletest check PLAN\`.`,
    options: [
      { flags: '--kind <KIND>', help: 'kubernetes (default) or docker', expects: 'kubernetes or docker' },
      { flags: '--name <NAME>', help: 'the template name (default: scaletest-<kind>)', expects: 'a template name' },
      {
        flags: '--var <NAME=VALUE>',
        help: "a value for one of the template's variables (repeatable; e.g. --var namespace=coder-scaletest)",
        expects: 'NAME=VALUE',
      },
      { flags: '--org <ORG>', help: 'organization name or id (default: the default organization)', expects: 'an organization name or id' },
      ...connectionOptions,
    ],
  };
}

/** `--var` may be given several times; commander keeps the last, so they are taken out first. */
function takeVariables(args: string[]): { rest: string[]; variables: Record<string, string> } {
  const rest: string[] = [];
  const variables: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const inline = arg.startsWith('--var=') ? arg.slice('--var='.length) : undefined;
    if (arg !== '--var' && inline === undefined) {
      rest.push(arg);
      continue;
    }
    const value = inline ?? args[++i];
    const match = value === undefined ? null : /^([A-Za-z_][A-Za-z0-9_-]*)=(.*)$/s.exec(value);
    if (!match) throw new UsageError(`--var needs NAME=VALUE, got "${value ?? ''}"`, 'template');
    variables[match[1]!] = match[2]!;
  }
  return { rest, variables };
}

export async function templateCommand(spec: CommandSpec, args: string[], io: CliIo): Promise<number> {
  const { rest, variables } = takeVariables(args);
  const { values, positionals } = parseCommandArgs(spec, rest);
  const [action, ...extra] = positionals;
  if (action !== 'push')
    throw new UsageError(action ? `unknown template action "${action}" (expected: push)` : 'missing action: push', 'template');
  if (extra.length) throw new UsageError(`template push takes no arguments, got "${extra.join(' ')}"`, 'template');
  const kindText = stringOption(values, 'kind') ?? 'kubernetes';
  if (!(TEMPLATE_KINDS as readonly string[]).includes(kindText)) {
    throw new UsageError(`--kind must be ${TEMPLATE_KINDS.join(' or ')}, got "${kindText}"`, 'template');
  }
  const kind = kindText as TemplateKind;
  const connection = connectionFrom(values, io.env, io.stderr);
  const owner = new CoderClient(connection);
  try {
    const outcome = await pushTemplate({
      owner,
      kind,
      name: stringOption(values, 'name'),
      organization: stringOption(values, 'org'),
      variables,
      signal: io.signal,
      log: (line) => io.stderr.write(`${line}\n`),
    });
    const what = { created: 'created', promoted: 'updated (new active version)', unchanged: 'already up to date' }[outcome.action];
    io.stdout.write(
      `template ${outcome.template.name} ${what} on ${connection.url}\n` +
        `next: set "deployment": { "template": "${outcome.template.name}" } in the plan, then run coder-scaletest check PLAN\n`,
    );
    return EXIT.passed;
  } catch (error) {
    if (error instanceof TemplatePushError) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT.failed;
    }
    if (error instanceof CoderApiError && error.status !== 401) {
      // coderd's own words, with what to do where it is one of the known refusals.
      io.stderr.write(`error: coderd refused the push: ${error.message}${pushAdvice(error)}\n`);
      return error.status === 403 ? EXIT.access : EXIT.failed;
    }
    const problem = classifyAccessError(error, connection.url);
    io.stderr.write(`error: ${accessProblemText(problem.message, problem.kind)}\n`);
    return EXIT.access;
  } finally {
    owner.close();
  }
}

function pushAdvice(error: CoderApiError): string {
  if (error.status === 403) return '\nPushing templates needs an owner or template admin token.';
  if (error.status === 429) return '\ncoderd limits uploads to 12 a minute per user: wait a minute and push again.';
  return '';
}
