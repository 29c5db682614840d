import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Bundles the dashboard (web/) into dist/web/app.js and app.css: one script, one style sheet,
 * nothing fetched at run time. Run by `npm run build` after tsc.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const outdir = `${root}dist/web`;
await mkdir(outdir, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'web/main.tsx' },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir,
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});
const sizes = Object.entries(result.metafile.outputs).map(
  ([file, output]) => `${file.replace(`${root}`, '')} ${output.bytes} B`,
);
process.stdout.write(`dashboard: ${sizes.join(', ')}\n`);
