// Writes schemas/scaletest-plan.schema.json from the TypeBox plan definition (`npm run schema`).
// A unit test fails when the committed file differs from what this would write.
import * as fs from 'fs';
import * as path from 'path';
import { planSchemaFileText } from '../src/engine/plan/plan';

const target = path.join(__dirname, '..', 'schemas', 'scaletest-plan.schema.json');
fs.writeFileSync(target, planSchemaFileText());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
