// The engine's code in the extension host (plan validation with TypeBox and Ajv and every
// stage's descriptor, the Coder client with ws, checks, cleanup, template push, baseline
// comparison with HDR histograms) is its own bundle, dist/engineBackend.js, required on the
// first call that needs it: activation then parses only the VS Code layer. esbuild.mjs makes
// `require('./engineBackend')` point at that file and fails the build if the engine gets into
// dist/extension.js; unbundled (unit tests), the same require loads the TypeScript module.
// No vscode import.
import type { InHostBackend } from './engineBackend';
import { readReportSnapshot } from './runs/reportSnapshot';

type EngineModule = typeof import('./engineBackend');

let loaded: EngineModule | undefined;

/** dist/engineBackend.js (src/vscode/engineBackend.ts), loaded by the first call. */
export function engineModule(): EngineModule {
  return (loaded ??= require('./engineBackend') as EngineModule);
}

/** The in-host backend; the engine loads on the first call of a method that needs it. */
export function lazyEngineBackend(): InHostBackend {
  let backend: InHostBackend | undefined;
  const engine = () => (backend ??= engineModule().createEngineBackend());
  return {
    validatePlanText: (text, source) => engine().validatePlanText(text, source),
    defaultPlanText: () => engine().defaultPlanText(),
    inspectDeployment: (connection) => engine().inspectDeployment(connection),
    login: (url, email, password, tls) => engine().login(url, email, password, tls),
    cleanupRun: (request) => engine().cleanupRun(request),
    checkDeployment: (planText, source, connection) => engine().checkDeployment(planText, source, connection),
    pushTemplate: (kind, connection, log) => engine().pushTemplate(kind, connection, log),
    // The Runs view reads every past run's report: plain JSON, no engine needed.
    readReport: readReportSnapshot,
  };
}
