// The organization and its template (coderd/organizations.go, coderd/templates.go).
import type { ApiHandlers } from '../context';
import { notFound } from '../http/errors';
import type { SimStore } from '../store';

/** The `{organization}` path parameter: id or name. */
export function organizationParam(store: SimStore, ref: string) {
  const org = store.organization;
  if (ref !== org.id && ref.toLowerCase() !== org.name) throw notFound();
  return org;
}

export const organizationHandlers = {
  listOrganizations: async ({ sim }) => ({ status: 200, body: [sim.store.organization] }),
  getOrganization: async ({ sim }, params) => ({ status: 200, body: organizationParam(sim.store, params.organization!) }),
  listTemplates: async ({ sim }, params) => {
    organizationParam(sim.store, params.organization!);
    return { status: 200, body: [sim.store.template] };
  },
  getTemplateByName: async ({ sim }, params) => {
    organizationParam(sim.store, params.organization!);
    if (params.templatename!.toLowerCase() !== sim.store.template.name) throw notFound();
    return { status: 200, body: sim.store.template };
  },
  listAllTemplates: async ({ sim }) => ({ status: 200, body: [sim.store.template] }),
  getTemplate: async ({ sim }, params) => {
    if (params.template !== sim.store.template.id) throw notFound();
    return { status: 200, body: sim.store.template };
  },
} satisfies ApiHandlers;
