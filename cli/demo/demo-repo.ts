import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How many files the demo's throwaway repository holds: enough that a worktree is real work. */
export const DEMO_FILES = 3_000;
const DIRECTORIES = 30;

export interface DemoRepo {
  readonly path: string;
  dispose(): void;
}

/** A throwaway git repository in a temp directory: DEMO_FILES small source files, one commit. */
export function createDemoRepo(): DemoRepo {
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
  git('add', '-A');
  git('-c', 'user.name=lanevisor demo', '-c', 'user.email=demo@lanevisor.invalid', 'commit', '-q', '-m', 'initial');
  return { path, dispose: () => rmSync(base, { recursive: true, force: true }) };
}
