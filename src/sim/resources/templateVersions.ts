// A template version's import results (coderd/templateversions.go): its resources (agents and
// apps), its rich parameters and its presets. The simulator's template has one version, the
// active one; its parameters and presets come from the simulation options.
import type * as S from '../../coder/schemas';
import type { ApiCall, ApiHandlers } from '../context';
import { notFound } from '../http/errors';

function activeVersion({ sim }: ApiCall, id: string): void {
  if (id !== sim.store.template.active_version_id) throw notFound();
}

export const templateVersionHandlers = {
  templateVersionResources: async (call, params) => {
    activeVersion(call, params.templateversion!);
    return { status: 200, body: call.sim.store.templateVersionResourcesJson() };
  },
  templateVersionRichParameters: async (call, params) => {
    activeVersion(call, params.templateversion!);
    return { status: 200, body: call.sim.store.templateParameters satisfies S.TemplateVersionParameter[] };
  },
  templateVersionPresets: async (call, params) => {
    activeVersion(call, params.templateversion!);
    return { status: 200, body: call.sim.store.templatePresets };
  },
} satisfies ApiHandlers;
