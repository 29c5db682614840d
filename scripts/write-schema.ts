/** Writes docs/schema/bus.schema.json and config.schema.json from the zod schemas; `npm run schema` runs the compiled copy. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { busJsonSchemaText } from '../bus/json-schema.js';
import { configJsonSchemaText } from '../supervision/config/config-schema.js';

// Compiled to dist/scripts/, two levels below the package root.
for (const [name, text] of [
  ['bus.schema.json', busJsonSchemaText()],
  ['config.schema.json', configJsonSchemaText()],
] as const) {
  const target = fileURLToPath(new URL(`../../docs/schema/${name}`, import.meta.url));
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
