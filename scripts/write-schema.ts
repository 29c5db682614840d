/** Writes docs/schema/bus.schema.json from the zod schemas; `npm run schema` runs the compiled copy. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { busJsonSchemaText } from '../bus/json-schema.js';

// Compiled to dist/scripts/, two levels below the package root.
const target = fileURLToPath(new URL('../../docs/schema/bus.schema.json', import.meta.url));
writeFileSync(target, busJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
