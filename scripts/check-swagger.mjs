// `npm run check:swagger [path/to/swagger.json]`: compares the project's Coder schemas and
// routes with Coder's own API spec (default ../shared/coder-api/swagger.json beside the repo).
//  - every schema is named after a spec definition (its `title`), and each of its properties
//    exists there with the same type, format, enum values and referenced definition;
//  - every API route (method + path) the client uses and the simulator serves exists, with the
//    query parameters we use, the request body definition and the success response definition.
// Routes outside /api/v2 (/healthz, /bin/*, path-based apps, dashboard pages) are not in the
// spec and not in the route table; `/_sim/` is simulator-only and excluded by design.
// Where the spec and coderd's Go types (site/src/api/typesGenerated.ts) disagree, the Go types
// win: each such field is a documented exception below, with its reason. An exception whose
// spec mismatch is gone (Coder fixed the spec) is itself reported, so the list stays true.
// Prints every difference and exits 1 if there is any.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import schemasModule from '../src/coder/schemas.ts';
import routesModule from '../src/coder/routes.ts';
import routeSchemasModule from '../src/coder/routeSchemas.ts';

const { allSchemas } = schemasModule;
const { apiRoutes } = routesModule;
const { responseSchemas, requestSchemas } = routeSchemasModule;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const specPath = path.resolve(repoRoot, process.argv[2] ?? '../shared/coder-api/swagger.json');
if (!fs.existsSync(specPath)) {
  console.error(`check-swagger: spec not found at ${specPath}; pass its path as the first argument.`);
  process.exit(2);
}
const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
const definitions = spec.definitions ?? {};
const problems = [];
const notes = [];

/**
 * Fields we name as coderd sends them although the spec names them differently.
 * Key: `<definition>.<our field>`; `spec`: the spec's name for it; `reason`: why the Go type wins.
 */
const specExceptions = {
  'codersdk.WorkspaceConnectionLatencyMS.P50': {
    spec: 'p50',
    reason: 'the Go struct has no JSON tags, so coderd sends "P50" (typesGenerated.ts agrees); the spec\'s "p50" is wrong',
  },
  'codersdk.WorkspaceConnectionLatencyMS.P95': {
    spec: 'p95',
    reason: 'the Go struct has no JSON tags, so coderd sends "P95" (typesGenerated.ts agrees); the spec\'s "p95" is wrong',
  },
};

const refName = (ref) => ref.replace('#/definitions/', '');

/** What a spec property really is: a reference to a definition, or an inline type. */
function describeSpec(property) {
  const ref = property.$ref ?? property.allOf?.find((part) => part.$ref)?.$ref;
  if (ref) return { ref: refName(ref) };
  return property;
}

/** Compares our property schema with the spec's; returns a list of differences. */
function compareProperty(ours, theirs, where) {
  const spec = describeSpec(theirs);
  if (spec.ref) {
    const target = definitions[spec.ref];
    if (ours.title) {
      return ours.title === spec.ref ? [] : [`${where}: spec refers to ${spec.ref}, ours is ${ours.title}`];
    }
    if (target && target.type !== 'object') {
      // An enum definition used loosely (e.g. a long scope list): the base type must agree.
      return compareProperty(ours, { type: target.type, format: target.format }, where);
    }
    return [`${where}: spec refers to ${spec.ref}; ours is an anonymous ${ours.type} (use the named schema)`];
  }
  if (ours.title) return [`${where}: ours is ${ours.title}, spec has an inline ${spec.type}`];
  const differences = [];
  if (ours.type !== spec.type) differences.push(`${where}: type ${ours.type}, spec ${spec.type}`);
  if ((ours.format ?? null) !== (spec.format ?? null)) {
    differences.push(`${where}: format ${ours.format ?? '(none)'}, spec ${spec.format ?? '(none)'}`);
  }
  if (ours.enum) {
    const theirsEnum = JSON.stringify([...(spec.enum ?? [])].sort());
    if (JSON.stringify([...ours.enum].sort()) !== theirsEnum)
      differences.push(`${where}: enum ${JSON.stringify(ours.enum)}, spec ${theirsEnum}`);
  }
  if (ours.type === 'array' && spec.type === 'array') differences.push(...compareProperty(ours.items, spec.items ?? {}, `${where}[]`));
  return differences;
}

// ---- schemas ----
for (const schema of allSchemas) {
  const name = schema.title;
  const definition = definitions[name];
  if (!name || !definition) {
    problems.push(`schema ${name ?? '(untitled)'}: no definition of that name in the spec`);
    continue;
  }
  if (schema.type !== definition.type) {
    problems.push(`schema ${name}: type ${schema.type}, spec ${definition.type}`);
    continue;
  }
  if (schema.enum) {
    problems.push(...compareProperty({ type: schema.type, enum: schema.enum }, { type: definition.type, enum: definition.enum }, name));
    continue;
  }
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const exception = specExceptions[`${name}.${key}`];
    const theirs = definition.properties?.[exception?.spec ?? key];
    if (exception && (!theirs || definition.properties?.[key])) {
      problems.push(
        `${name}.${key}: documented exception no longer needed (the spec now names it "${key}" or lacks "${exception.spec}"); remove it`,
      );
    } else if (!theirs) problems.push(`${name}.${key}: not in the spec (invented field)`);
    else {
      if (exception) notes.push(`${name}.${key}: the spec says "${exception.spec}"; ${exception.reason}`);
      problems.push(...compareProperty(property, theirs, `${name}.${key}`));
    }
  }
}

// ---- routes ----
/** Our response schema vs the spec's success response schema. */
function compareBody(ours, theirs, where) {
  if (!ours) return [];
  if (!theirs) return [`${where}: the spec declares no body, ours is ${ours.title ?? ours.type}`];
  return compareProperty(ours, theirs, where);
}

for (const [name, route] of Object.entries(apiRoutes)) {
  const where = `route ${name} (${route.method} ${spec.basePath ?? ''}${route.path})`;
  const operation = spec.paths?.[route.path]?.[route.method.toLowerCase()];
  if (!operation) {
    problems.push(`${where}: not in the spec`);
    continue;
  }
  const parameters = operation.parameters ?? [];
  for (const query of route.query ?? []) {
    if (!parameters.some((p) => p.in === 'query' && p.name === query))
      problems.push(`${where}: query parameter "${query}" not in the spec`);
  }
  for (const query of route.queryMissingFromSpec ?? []) {
    if (parameters.some((p) => p.in === 'query' && p.name === query)) {
      problems.push(`${where}: "${query}" is now in the spec; move it to \`query\``);
    } else notes.push(`${where}: uses "${query}", which coderd reads but the spec does not list`);
  }
  for (const placeholder of route.path.match(/\{(\w+)\}/g) ?? []) {
    const param = placeholder.slice(1, -1);
    if (!parameters.some((p) => p.in === 'path' && p.name === param)) problems.push(`${where}: path parameter {${param}} not in the spec`);
  }
  const success = Object.entries(operation.responses ?? {}).find(([code]) => code.startsWith('2') || code === '101');
  if (!success) problems.push(`${where}: the spec declares no success response`);
  else problems.push(...compareBody(responseSchemas[name], success[1].schema, `${where} response`));
  const bodyParam = parameters.find((p) => p.in === 'body');
  const ourRequest = requestSchemas[name];
  if (ourRequest && !bodyParam) problems.push(`${where}: we send a ${ourRequest.title} body; the spec takes none`);
  if (ourRequest && bodyParam) problems.push(...compareBody(ourRequest, bodyParam.schema, `${where} request body`));
  if (!ourRequest && bodyParam?.required)
    problems.push(`${where}: the spec requires a ${describeSpec(bodyParam.schema).ref} body; we declare none`);
}

for (const note of notes) console.log(`note: ${note}`);
if (problems.length) {
  console.error(`check-swagger: ${problems.length} difference(s) from ${path.relative(repoRoot, specPath)}:`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
console.log(
  `check-swagger: ${allSchemas.length} schemas and ${Object.keys(apiRoutes).length} routes match ${path.relative(repoRoot, specPath)}.`,
);
