import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of docs/architecture.md, read from the imports of every source file: a file that
 * crosses a rule fails here, naming the file and what it imports.
 */
const ROOT = resolve(import.meta.dirname, '..');
const LAYERS = ['bus', 'machines', 'actors', 'supervision', 'cli', 'server', 'nats'] as const;

function sourcesUnder(dir: string, extensions: readonly string[] = ['.ts']): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourcesUnder(path, extensions);
    return extensions.some((extension) => path.endsWith(extension)) && !path.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** What a file imports: our files (relative to the root, as .ts) and packages, by name. */
function importsOf(file: string): { ours: string[]; packages: string[] } {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const ours: string[] = [];
  const packages: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = (match[1] ?? match[2]) as string;
    if (spec.startsWith('.')) {
      const target = relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts');
      const tsx = target.replace(/\.ts$/, '.tsx');
      ours.push(existsSync(join(ROOT, target)) ? target : existsSync(join(ROOT, tsx)) ? tsx : join(target, 'index.ts'));
    } else packages.push(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
  }
  return { ours, packages };
}

const layerOf = (file: string) => (file === 'index.ts' ? 'index' : file.split('/')[0]);
const files = LAYERS.flatMap((layer) => sourcesUnder(layer));

function violations(check: (file: string, imports: ReturnType<typeof importsOf>) => string[]): string[] {
  return files.flatMap((file) => check(file, importsOf(file)).map((problem) => `${file}: ${problem}`));
}

describe('the layers', () => {
  it('finds the sources it checks', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(importsOf('supervision/runtime/lanevisor-runtime.ts').ours).toContain('bus/errors.ts');
  });

  it('bus/ imports nothing else of ours', () => {
    expect(
      violations((file, { ours }) =>
        layerOf(file) === 'bus' ? ours.filter((t) => layerOf(t) !== 'bus').map((t) => `imports ${t}`) : [],
      ),
    ).toEqual([]);
  });

  it("machines/ import xstate, each other and the bus's types: never node-pty, execa, fs, actors/ or supervision/", () => {
    const forbiddenPackages = new Set(['node-pty', 'execa', 'node:fs', 'fs', 'node:child_process']);
    expect(
      violations((file, { ours, packages }) => {
        if (layerOf(file) !== 'machines') return [];
        // The bus's types only: a value import would bring the bus itself into a pure machine.
        const text = readFileSync(join(ROOT, file), 'utf8');
        const busValues = /import\s+(?!type\s)[^'"]*from\s+['"](?:\.\.\/)+bus\//.test(text);
        return [
          ...packages.filter((p) => forbiddenPackages.has(p)).map((p) => `imports ${p}`),
          ...ours.filter((t) => !['machines', 'bus'].includes(layerOf(t) as string)).map((t) => `imports ${t}`),
          ...(busValues ? ['imports values from bus/'] : []),
        ];
      }),
    ).toEqual([]);
  });

  it('actors/ never import supervision/ or cli/', () => {
    expect(
      violations((file, { ours }) =>
        layerOf(file) === 'actors'
          ? ours
              .filter((t) => ['supervision', 'cli', 'index'].includes(layerOf(t) as string))
              .map((t) => `imports ${t}`)
          : [],
      ),
    ).toEqual([]);
  });

  it('supervision/ never imports cli/', () => {
    expect(
      violations((file, { ours }) =>
        layerOf(file) === 'supervision' ? ours.filter((t) => layerOf(t) === 'cli').map((t) => `imports ${t}`) : [],
      ),
    ).toEqual([]);
  });

  it('cli/ goes through index.ts (and nats/index.ts) only', () => {
    expect(
      violations((file, { ours }) =>
        layerOf(file) === 'cli'
          ? ours
              .filter((t) => !['cli', 'index'].includes(layerOf(t) as string) && t !== 'nats/index.ts')
              .map((t) => `imports ${t}`)
          : [],
      ),
    ).toEqual([]);
  });

  it('server/ goes through index.ts only', () => {
    expect(
      violations((file, { ours }) =>
        layerOf(file) === 'server'
          ? ours.filter((t) => !['server', 'index'].includes(layerOf(t) as string)).map((t) => `imports ${t}`)
          : [],
      ),
    ).toEqual([]);
  });

  it('nats/ goes through index.ts only; only cli/ reaches it (through nats/index.ts), and only the nats client is its package', () => {
    expect(
      violations((file, { ours, packages }) => {
        const problems: string[] = [];
        if (layerOf(file) === 'nats') {
          problems.push(
            ...ours.filter((t) => !['nats', 'index'].includes(layerOf(t) as string)).map((t) => `imports ${t}`),
          );
        } else {
          const allowed = layerOf(file) === 'cli' ? ['nats/index.ts'] : [];
          problems.push(
            ...ours.filter((t) => layerOf(t) === 'nats' && !allowed.includes(t)).map((t) => `imports ${t}`),
          );
          if (layerOf(file) !== 'cli')
            problems.push(...packages.filter((p) => p === 'nats').map((p) => `imports ${p}`));
        }
        return problems;
      }),
    ).toEqual([]);
    expect(importsOf('nats/link.ts').packages).toContain('nats');
  });

  it("the terminal host's entry loads node-pty, the mirror and the framing, never XState, machines/ or supervision/", () => {
    const loaded = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      const imports = importsOf(file);
      for (const p of imports.packages) packages.add(p);
      for (const target of imports.ours) visit(target);
    };
    visit('actors/pty/host/main.ts');
    expect(
      [...loaded].filter((f) => ['machines', 'supervision', 'cli', 'index'].includes(layerOf(f) as string)),
    ).toEqual([]);
    expect([...packages].filter((p) => p === 'xstate' || p.startsWith('@statelyai'))).toEqual([]);
    expect(loaded).toContain('actors/pty/node-pty-driver.ts');
    expect(loaded).toContain('actors/pty/terminal-mirror.ts');
    expect(loaded).toContain('actors/pty/host/framing.ts');
  });

  it('web/ is browser code: it imports web/ files, preact and @xterm only, and reaches the runtime over HTTP alone', () => {
    const webFiles = sourcesUnder('web', ['.ts', '.tsx']);
    expect(webFiles.length).toBeGreaterThan(5);
    const allowed = new Set(['preact', '@xterm/xterm', '@xterm/addon-fit']);
    const problems = webFiles.flatMap((file) => {
      const { ours, packages } = importsOf(file);
      return [
        ...ours.filter((target) => !target.startsWith('web/')).map((target) => `${file}: imports ${target}`),
        ...packages.filter((name) => !allowed.has(name)).map((name) => `${file}: imports ${name}`),
      ];
    });
    expect(problems).toEqual([]);
  });
});
