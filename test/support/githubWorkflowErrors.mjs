// Validates GitHub Actions workflow files with GitHub's own parser and schema
// (@actions/workflow-parser) and prints `{ file: [error, …] }` as JSON. A script of its own:
// the parser is ESM that imports its schema JSON without an import attribute, which Node 20
// refuses unless tsx's ESM loader runs (`node --import tsx githubWorkflowErrors.mjs FILE…`).
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import * as fs from 'node:fs';

const errors = {};
for (const file of process.argv.slice(2)) {
  const parsed = parseWorkflow({ name: file, content: fs.readFileSync(file, 'utf8') }, new NoOperationTraceWriter());
  // Converting reports what parsing alone does not (e.g. a job without runs-on).
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value);
  errors[file] = parsed.context.errors.getErrors().map((error) => error.message);
}
process.stdout.write(JSON.stringify(errors));
