// "Run on Kubernetes…": the plan runs as shards (pods of an Indexed Job) on a cluster of the
// user's kubeconfig. This asks for the context, shards, image, namespace and the token's Secret,
// then hands over to Run Plan with a Kubernetes spec: the runner child (dist/cli.js __runner)
// creates the pods and merges their streams, and the same dashboard shows the merged run.
import * as vscode from 'vscode';
import type { CommandId } from '../commandIds';
import { registerCommand, type CommandErrors } from '../commands';
import { Disposable } from '../lifecycle';
import type { PlanArg } from '../plans/feature';
import type { RunnerEntry } from '../processBackend';
import type { RunPlanOptions } from '../runs/feature';
import { checks, contextChoices, kubernetesSpec, listKubeContexts, type KubernetesAnswers } from './kubernetesInputs';

/** The answers of the last run on Kubernetes, offered again as defaults. */
const LAST_ANSWERS_KEY = 'coderScaletest.kubernetes.lastAnswers';

export class KubernetesFeature extends Disposable {
  constructor(
    private readonly cli: RunnerEntry,
    private readonly memento: vscode.Memento,
    errors: CommandErrors,
  ) {
    super();
    this.register(registerCommand(errors, 'coderScaletest.runOnKubernetes', (arg?: PlanArg) => this.runOnKubernetes(arg)));
  }

  private async runOnKubernetes(arg: PlanArg): Promise<unknown> {
    if (!vscode.workspace.isTrusted)
      throw new Error('Running a scale test is disabled in untrusted workspaces: trust this workspace first.');
    const answers = await this.ask();
    if (!answers) return undefined;
    const kubernetes = kubernetesSpec(answers);
    await this.memento.update(LAST_ANSWERS_KEY, answers);
    const options: RunPlanOptions = { kubernetes };
    return vscode.commands.executeCommand('coderScaletest.runPlan' satisfies CommandId, arg, options);
  }

  /** The context from the kubeconfig, then shards, image, namespace and Secret; undefined when cancelled. */
  private async ask(): Promise<KubernetesAnswers | undefined> {
    const last = this.memento.get<Partial<KubernetesAnswers>>(LAST_ANSWERS_KEY) ?? {};
    const contexts = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Reading the kubeconfig' }, () =>
      listKubeContexts(this.cli, { kubeconfig: last.kubeconfig }).catch((error: Error) => {
        throw new Error(`Cannot list the kubeconfig's contexts: ${error.message}`);
      }),
    );
    if (contexts.contexts.length === 0)
      throw new Error(
        'The kubeconfig has no contexts: add the cluster with its own CLI (e.g. gcloud, aws eks, az aks get-credentials), then retry.',
      );
    const context = await vscode.window.showQuickPick(contextChoices(contexts), {
      title: 'Run on Kubernetes: which cluster (kubeconfig context)?',
      ignoreFocusOut: true,
    });
    if (!context) return undefined;
    const input = (title: string, value: string, validateInput: (text: string) => string | undefined, prompt: string) =>
      vscode.window.showInputBox({ title: `Run on Kubernetes: ${title}`, value, prompt, validateInput, ignoreFocusOut: true });
    const shards = await input('shards', last.shards ?? '2', checks.shards, 'How many pods share the users (each runs shard I of N)');
    if (shards === undefined) return undefined;
    const image = await input(
      'runner image',
      last.image ?? 'ghcr.io/OWNER/coder-scaletest:0.1.0',
      checks.image,
      'Built from the Dockerfile and pushed where the cluster can pull it',
    );
    if (image === undefined) return undefined;
    const namespace = await input(
      'namespace',
      (last.context === context.label ? last.namespace : undefined) ?? context.namespace ?? 'default',
      checks.namespace,
      'It must exist, and hold the token Secret',
    );
    if (namespace === undefined) return undefined;
    const secret = await input(
      'token Secret',
      last.secret ?? 'coder-scaletest-token:token',
      checks.secret,
      "The Secret (name[:key]) holding the deployment owner's session token: kubectl create secret generic …",
    );
    if (secret === undefined) return undefined;
    return { context: context.label, shards, image, namespace, secret, kubeconfig: last.kubeconfig };
  }
}
