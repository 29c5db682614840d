import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The published shape: `npm run build` output imported by a separate project with plain Node.
 * `npm test` builds first (pretest), so dist/ is current here.
 */
describe('the built package', () => {
  const consumer = mkdtempSync(join(tmpdir(), 'lanevisor-consumer-'));
  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  it('has been built', () => {
    expect(existsSync(join(root, 'dist/index.js')), 'run `npm run build` first').toBe(true);
    expect(existsSync(join(root, 'dist/index.d.ts'))).toBe(true);
  });

  it('is importable as "lanevisor" by plain Node: bus, ids and LanevisorError', () => {
    mkdirSync(join(consumer, 'node_modules'));
    symlinkSync(root, join(consumer, 'node_modules', 'lanevisor'), 'dir');
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    writeFileSync(
      join(consumer, 'main.js'),
      `import { createBus, createLaneId, isLaneId, LanevisorError } from 'lanevisor';
const bus = createBus();
const got = [];
bus.subscribe('demo.*', (event) => { got.push(event.topic + '#' + event.sequence); });
bus.handle('demo.echo', (payload) => payload);
bus.publish('demo.hello', { n: 1 });
const echoed = await bus.request('demo.echo', 'ok');
let code = null;
try { bus.publish('lane.created', {}); } catch (error) { code = error instanceof LanevisorError ? error.code : 'wrong'; }
console.log(JSON.stringify({ got, echoed, code, lane: isLaneId(createLaneId()) }));
`,
    );
    const output = execFileSync(process.execPath, ['main.js'], { cwd: consumer, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ got: ['demo.hello#1'], echoed: 'ok', code: 'VALIDATION_ERROR', lane: true });
  });

  it('ships dist and the schema, not the sources, tests or benchmarks', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as [{ files: { path: string }[] }];
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/cli/main.js',
        'docs/schema/bus.schema.json',
        'docs/schema/config.schema.json',
        'package.json',
      ]),
    );
    expect(
      files.filter(
        (f) => /^(test|bench|bus|scripts)\/|^dist\/(bench|scripts|test)\/|\.ts$/.test(f) && !f.endsWith('.d.ts'),
      ),
    ).toEqual([]);
  });

  it('runs the lanevisor bin', () => {
    const version = execFileSync(process.execPath, [join(root, 'dist/cli/main.js'), '--version'], { encoding: 'utf8' });
    expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
