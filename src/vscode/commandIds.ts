// Every command the extension contributes, in one list: package.json's contributes.commands
// must match it exactly (checked by a unit test) and every id must be registered at
// activation (checked inside VS Code). No vscode import.
export const COMMAND_IDS = [
  'coderScaletest.connect',
  'coderScaletest.logout',
  'coderScaletest.refreshDeployments',
  'coderScaletest.setDefaultDeployment',
  'coderScaletest.startSimulatedDeployment',
  'coderScaletest.stopSimulatedDeployment',
  'coderScaletest.newPlan',
  'coderScaletest.validatePlan',
  'coderScaletest.runPlan',
  'coderScaletest.runOnKubernetes',
  'coderScaletest.openPlan',
  'coderScaletest.stopRun',
  'coderScaletest.cleanupRun',
  'coderScaletest.showDashboard',
  'coderScaletest.openRunInDashboard',
  'coderScaletest.openReportFile',
  'coderScaletest.exportReport',
  'coderScaletest.compareRuns',
  'coderScaletest.markBaseline',
  'coderScaletest.compareWithBaseline',
  'coderScaletest.refreshRuns',
  'coderScaletest.showLog',
  'coderScaletest.checkDeployment',
  'coderScaletest.pushTemplate',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];

/** A tree item's click action naming a command by its typed id (a vscode.Command). */
export function commandFor(
  command: CommandId,
  title: string,
  ...args: unknown[]
): { command: CommandId; title: string; arguments?: unknown[] } {
  return args.length ? { command, title, arguments: args } : { command, title };
}
