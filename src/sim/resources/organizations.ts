// The organization and its templates (coderd/organizations.go, coderd/templates.go).
import type { ApiHandlers } from '../context';
import { notFound } from '../http/errors';
import type { SimStore } from '../store';

/** The `{organization}` path parameter: id or name. */
export function organizationParam(store: SimStore, ref: string) {
  const org = store.organization;
  if (ref !== org.id && ref.toLowerCase() !== org.name) throw notFound();
  return org;
}

/** Templates by name, as coderd lists them. */
const allTemplates = (store: SimStore) => [...store.catalog.templates.values()].sort((a, b) => a.name.localeCompare(b.name));

export const organizationHandlers = {
  listOrganizations: async ({ sim }) => ({ status: 200, body: [sim.store.organization] }),
  getOrganization: async ({ sim }, params) => ({ status: 200, body: organizationParam(sim.store, params.organization!) }),
  listTemplates: async ({ sim }, params) => {
    organizationParam(sim.store, params.organization!);
    return { status: 200, body: allTemplates(sim.store) };
  },
  getTemplateByName: async ({ sim }, params) => {
    organizationParam(sim.store, params.organization!);
    const template = sim.store.catalog.findByName(params.templatename!);
    if (!template) throw notFound();
    return { status: 200, body: template };
  },
  listAllTemplates: async ({ sim }) => ({ status: 200, body: allTemplates(sim.store) }),
  getTemplate: async ({ sim }, params) => {
    const template = sim.store.catalog.templates.get(params.template!);
    if (!template) throw notFound();
    return { status: 200, body: template };
  },
} satisfies ApiHandlers;
