import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeOptions } from '../../index.js';

/** How many files the demo's throwaway repository holds: enough that a worktree is real work. */
export const DEMO_FILES = 3_000;
const DIRECTORIES = 30;

/** Where the demo runs: a repository, and what keeps the demo's state and worktrees. */
export interface DemoPlace {
  readonly path: string;
  /** True when the repository is the user's: everything the demo made in it is taken out again. */
  readonly usersOwn: boolean;
  /**
   * True when the demo's lanes run the repository's lanevisor.json setup: the throwaway
   * repository's (DEMO_CONFIG); a user's setup is for lanes that do its work, not the demo's.
   */
  readonly setup: boolean;
  /** The runtime's options for it, beyond `repo`. */
  readonly runtime: Pick<RuntimeOptions, 'stateDir' | 'worktreeRoot' | 'reconcileOrphans'>;
  dispose(): void;
}

/**
 * The throwaway repository's lanevisor.json: each lane gets its own port, the ignored `.env` and
 * `node_modules` of the main working tree (copied, linked), and a setup command that writes the
 * lane's port into its `.env`.
 */
export const DEMO_CONFIG = {
  setup: {
    copy: ['.env'],
    symlink: ['node_modules'],
    run: ['echo "PORT=$LANEVISOR_PORT" >> .env'],
  },
  ports: { base: 4100 },
};
/** The `.env` of the throwaway repository's main working tree (ignored by git, as a real one is). */
export const DEMO_ENV = 'API_KEY=demo-key\n';

/**
 * A throwaway git repository in a temp directory: DEMO_FILES small source files and DEMO_CONFIG,
 * one commit, plus the ignored files its setup brings into each lane.
 */
export function createDemoRepo(): DemoPlace {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'lanevisor-demo-')));
  const path = join(base, 'app');
  mkdirSync(path);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: path, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  for (let i = 0; i < DEMO_FILES; i++) {
    const dir = join(path, 'src', `module${i % DIRECTORIES}`);
    if (i < DIRECTORIES) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file${i}.ts`), `export const value${i} = ${i};\n`);
  }
  writeFileSync(join(path, 'README.md'), '# a throwaway repository made by `lanevisor demo`\n');
  writeFileSync(join(path, 'lanevisor.json'), `${JSON.stringify(DEMO_CONFIG, null, 2)}\n`);
  writeFileSync(join(path, '.gitignore'), '.env\nnode_modules\n');
  writeFileSync(join(path, '.env'), DEMO_ENV);
  mkdirSync(join(path, 'node_modules', 'left-pad'), { recursive: true });
  writeFileSync(join(path, 'node_modules', 'left-pad', 'index.js'), 'module.exports = (s) => s;\n');
  git('add', '-A');
  git('-c', 'user.name=lanevisor demo', '-c', 'user.email=demo@lanevisor.invalid', 'commit', '-q', '-m', 'initial');
  return {
    path,
    usersOwn: false,
    setup: true,
    runtime: {},
    dispose: () => rmSync(base, { recursive: true, force: true }),
  };
}

/**
 * The user's repository (`demo --repo`): the demo's state directory and worktrees go to a temp
 * directory of their own, removed afterwards (with the state directory gone, its terminal host
 * exits), and its reconciliation leaves alone whatever of lanevisor's the repository already holds.
 */
export function usersRepo(path: string): DemoPlace {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'lanevisor-demo-')));
  return {
    path,
    usersOwn: true,
    setup: false,
    runtime: { stateDir: join(base, 'state'), worktreeRoot: join(base, 'lanes'), reconcileOrphans: false },
    dispose: () => rmSync(base, { recursive: true, force: true }),
  };
}
