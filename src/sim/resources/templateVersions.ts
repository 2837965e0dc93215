// A template version's import results (coderd/templateversions.go): its resources (agents and
// apps), its rich parameters and its presets, as the import job found them in the pushed
// archive (templates.ts; the built-in template's version has its parameters and presets from
// the simulation options).
import type * as S from '../../coder/schemas';
import type { ApiCall, ApiHandlers } from '../context';
import { HttpError, notFound } from '../http/errors';
import type { SimTemplateVersion } from '../templates';
import { resourcesBody } from './templates';

function version({ sim }: ApiCall, id: string): SimTemplateVersion {
  const found = sim.store.catalog.versions.get(id);
  if (!found) throw notFound();
  return found;
}

export const templateVersionHandlers = {
  templateVersionResources: async (call, params) => {
    const found = version(call, params.templateversion!);
    // coderd's provisionerJobResources: nothing to list before the import job has ended.
    if (!found.job.completedAt) throw new HttpError(400, "Job hasn't completed!");
    return { status: 200, body: resourcesBody(found) };
  },
  templateVersionRichParameters: async (call, params) => {
    const found = version(call, params.templateversion!);
    // coderd's templateVersionRichParameters: 403 until the import job has completed.
    if (!found.job.completedAt) throw new HttpError(403, "Job hasn't completed!");
    return { status: 200, body: found.parameters satisfies S.TemplateVersionParameter[] };
  },
  templateVersionPresets: async (call, params) => ({ status: 200, body: version(call, params.templateversion!).presets }),
} satisfies ApiHandlers;
