import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isLanevisorError } from '../../../bus/errors.js';
import { configJsonSchemaText } from '../../../supervision/config/config-schema.js';
import { allocatePort, laneEnvironment, planLane } from '../../../supervision/config/lane-plan.js';
import { loadConfig, parseConfig } from '../../../supervision/config/load-config.js';
import { DEFAULT_PATH } from '../../../supervision/pty/spawn-request.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../../docs/schema/config.schema.json', import.meta.url));

function rejection(run: () => unknown): { code: string; message: string; details?: unknown } {
  try {
    run();
  } catch (error) {
    if (isLanevisorError(error)) return { code: error.code, message: error.message, details: error.details };
    throw error;
  }
  throw new Error('it did not throw');
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('lanevisor.json', () => {
  it('docs/schema/config.schema.json is what the zod schema generates today (npm run schema)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(configJsonSchemaText());
    const schema = JSON.parse(configJsonSchemaText()) as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['setup', 'teardown', 'sparse', 'env', 'ports', 'templates', 'branchPrefix']),
    );
    expect(schema.additionalProperties).toBe(false);
  });

  it('takes a full config, $schema included', () => {
    const config = parseConfig({
      $schema: './node_modules/lanevisor/docs/schema/config.schema.json',
      baseRef: 'main',
      branchPrefix: 'agents/',
      setup: { copy: ['.env', 'config/*.local.json'], symlink: ['node_modules'], run: ['npm ci'], timeoutMs: 60_000 },
      teardown: { run: ['docker compose down'] },
      sparse: ['packages/web'],
      env: { set: { API_URL: 'http://localhost:{{port}}/{{label}}' }, deny: ['AWS_*', 'GITHUB_TOKEN'] },
      ports: { base: 4000, perLane: 10 },
      templates: { docs: { sparse: ['docs'], setup: { run: [] } } },
    });
    expect(config.ports).toEqual({ base: 4000, perLane: 10 });
  });

  it.each([
    [{ setpu: {} }, 'lanevisor.json: setpu: is not a key lanevisor knows', 'setpu'],
    [{ setup: { cpoy: ['.env'] } }, 'lanevisor.json: setup.cpoy: is not a key lanevisor knows', 'setup.cpoy'],
    [{ setup: { copy: '.env' } }, 'lanevisor.json: setup.copy: ', 'setup.copy'],
    [
      { setup: { copy: ['../secrets'] } },
      'lanevisor.json: setup.copy[0]: may not leave the main working tree',
      'setup.copy[0]',
    ],
    [{ setup: { symlink: ['/etc/passwd'] } }, 'lanevisor.json: setup.symlink[0]: must be relative', 'setup.symlink[0]'],
    [{ env: { set: { A: '{{secret}}' } } }, 'lanevisor.json: env.set.A: may only use the placeholders', 'env.set.A'],
    [{ ports: { base: 70_000 } }, 'lanevisor.json: ports.base: ', 'ports.base'],
    [{ templates: { '../x': {} } }, 'lanevisor.json: templates', 'templates'],
    [{ branchPrefix: 'lane' }, 'lanevisor.json: branchPrefix: must be ref components ending in "/"', 'branchPrefix'],
    [{ pty: { host: 'docker' } }, 'lanevisor.json: pty.host: ', 'pty.host'],
  ])('refuses %j naming the key path', (value, message, field) => {
    const error = rejection(() => parseConfig(value));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith(message)).toBe(true);
    expect(error.details).toMatchObject({ file: 'lanevisor.json', field: expect.stringContaining(field) });
  });

  it('reads the file at the repository root; none is an empty config; a broken one says what is wrong', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lanevisor-config-'));
    expect(await loadConfig(dir)).toEqual({});
    writeFileSync(join(dir, 'lanevisor.json'), '{ "setup": { "copy": [".env"], } }');
    await expect(loadConfig(dir)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^\/.*lanevisor\.json is not valid JSON/),
    });
    writeFileSync(join(dir, 'lanevisor.json'), '{ "maxLanes": 0 }');
    await expect(loadConfig(dir)).rejects.toMatchObject({
      message: expect.stringContaining('lanevisor.json: maxLanes:'),
    });
  });
});

describe('a lane plan', () => {
  const config = parseConfig({
    baseRef: 'develop',
    setup: { copy: ['.env'], run: ['make deps'] },
    teardown: { run: ['make stop'] },
    env: { set: { A: 'file', B: 'file' }, deny: ['SECRET'] },
    templates: {
      web: {
        baseRef: 'release',
        setup: { run: ['npm ci'] },
        sparse: ['web'],
        env: { set: { B: 'template' }, deny: ['AWS_*'] },
      },
    },
  });

  it("puts a template's keys over the file's and the caller's options over both", () => {
    expect(planLane(config, {})).toMatchObject({
      template: null,
      baseRef: 'develop',
      setup: { copy: ['.env'], run: ['make deps'] },
      teardown: ['make stop'],
      sparse: null,
    });
    const web = planLane(config, { template: 'web' });
    expect(web).toMatchObject({ template: 'web', baseRef: 'release', sparse: ['web'] });
    // setup keys one by one: the template's run, the file's copy.
    expect(web.setup).toMatchObject({ copy: ['.env'], run: ['npm ci'] });
    expect(web.env).toEqual({ set: { A: 'file', B: 'template' }, deny: ['SECRET', 'AWS_*'] });
    expect(planLane(config, { template: 'web', baseRef: 'HEAD~1', setup: false })).toMatchObject({
      baseRef: 'HEAD~1',
      setup: null,
    });
  });

  it('names the templates there are for an unknown one, and treats inherited names as unknown', () => {
    for (const name of ['nope', '__proto__', 'constructor', '../../etc']) {
      const error = rejection(() => planLane(config, { template: name }));
      expect(error.code).toBe('NOT_FOUND');
      expect(error.message).toContain('it has web');
    }
  });

  it('builds the environment: denied names and globs gone, PATH and HOME kept, placeholders filled, the port set', () => {
    const env = laneEnvironment(
      { PATH: '/bin', HOME: '/home/x', SECRET: 's', AWS_KEY: 'k', AWS: 'kept', KEEP: 'k' },
      { set: { URL: 'http://localhost:{{port}}/{{label}}/{{laneId}}' }, deny: ['SECRET', 'AWS_*', 'PATH'] },
      { laneId: 'lane_1', label: 'web', port: 4010 },
    );
    expect(env).toEqual({
      PATH: expect.any(String),
      HOME: '/home/x',
      AWS: 'kept',
      KEEP: 'k',
      URL: 'http://localhost:4010/web/lane_1',
      LANEVISOR_PORT: '4010',
    });
    // Denied or missing, PATH and HOME get the defaults every PTY's base environment has.
    const bare = laneEnvironment(
      { PATH: '/bin', HOME: '/home/x', KEEP: 'k' },
      { set: {}, deny: ['PATH', 'HO*'] },
      { laneId: 'lane_1', label: null, port: null },
    );
    expect(bare).toEqual({ PATH: DEFAULT_PATH, HOME: homedir(), KEEP: 'k' });
  });

  it('gives the lowest free port slot, and CAPACITY when none is left', () => {
    expect(allocatePort(undefined, new Set())).toBeNull();
    expect(allocatePort({ base: 4000, perLane: 10 }, new Set([4000, 4020]))).toBe(4010);
    expect(rejection(() => allocatePort({ base: 65_530, perLane: 5 }, new Set([65_530, 65_535]))).code).toBe(
      'CAPACITY',
    );
  });
});
