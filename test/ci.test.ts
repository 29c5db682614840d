import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('CI', () => {
  it('runs exactly the test command the README gives', () => {
    const command = /^TEST_COMMAND='([^']+)'$/m.exec(read('.ci/run'))?.[1];
    expect(command).toBeDefined();
    expect(read('README.md')).toContain(`\`\`\`sh\n${command}\n\`\`\``);
  });

  it('has the README main command run a script that exists', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(read('README.md')).toContain('```sh\nnpm ci && npm run main\n```');
    expect(scripts.main).toBeDefined();
    expect(scripts.test).toMatch(/vitest run --coverage/);
  });
});
