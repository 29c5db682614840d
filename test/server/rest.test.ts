import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaneView, PtyInfo } from '../../index.js';
import { gitIn } from '../support/git-repo.js';
import { BASH_PTY } from '../support/runtime-fixture.js';
import { postJson, type Served, startServed } from './harness.js';

/** Every REST endpoint, with good and bad input, answered with the contract's status and error code. */
let served: Served;
beforeAll(async () => {
  served = await startServed();
});
afterAll(async () => {
  await served.dispose();
});

async function expectError(response: Response, status: number, code: string): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error.message;
}

describe('the REST endpoints', () => {
  it('GET /api/runtime answers the runtime', async () => {
    const response = await served.api('/api/runtime');
    expect(response.status).toBe(200);
    const { rt } = served.fixture;
    expect(await response.json()).toEqual({
      id: rt.id,
      pid: process.pid,
      repo: rt.repo,
      stateDir: rt.stateDir,
      ptyHost: rt.ptyHost,
    });
  });

  it('creates, lists, gets, spawns in, execs in and cleans up a lane', async () => {
    const created = await served.api('/api/lanes', postJson({ label: 'by-http' }));
    expect(created.status).toBe(201);
    const lane = (await created.json()) as LaneView;
    expect(lane).toMatchObject({ label: 'by-http', state: 'ready', branch: 'lane/by-http', ptys: [] });

    const list = (await (await served.api('/api/lanes')).json()) as LaneView[];
    expect(list.map((view) => view.id)).toContain(lane.id);
    expect(await (await served.api(`/api/lanes/${lane.id}`)).json()).toMatchObject({ id: lane.id });

    const spawned = await served.api(`/api/lanes/${lane.id}/ptys`, postJson({ ...BASH_PTY, cols: 90 }));
    expect(spawned.status).toBe(201);
    const pty = (await spawned.json()) as PtyInfo;
    expect(pty).toMatchObject({ laneId: lane.id, state: 'active', cols: 90, rows: 24 });

    const exec = await served.api(
      `/api/lanes/${lane.id}/exec`,
      postJson({ argv: ['git', 'rev-parse', '--abbrev-ref', 'HEAD'] }),
    );
    expect(exec.status).toBe(200);
    expect(await exec.json()).toMatchObject({ exitCode: 0, stdout: 'lane/by-http\n', timedOut: false });

    const ended = await served.api(`/api/ptys/${pty.id}/terminate`, postJson({ graceMs: 200 }));
    expect(ended.status).toBe(200);
    expect(await ended.json()).toMatchObject({ escalated: false });
    await expectError(await served.api(`/api/ptys/${pty.id}/terminate`, { method: 'POST' }), 404, 'NOT_FOUND');

    const cleaned = await served.api(`/api/lanes/${lane.id}/cleanup`, postJson({ discard: true }));
    expect(cleaned.status).toBe(200);
    await expectError(await served.api(`/api/lanes/${lane.id}`), 404, 'NOT_FOUND');
  });

  it('a label in use is 409 ALREADY_EXISTS', async () => {
    expect((await served.api('/api/lanes', postJson({ label: 'twice' }))).status).toBe(201);
    await expectError(await served.api('/api/lanes', postJson({ label: 'twice' })), 409, 'ALREADY_EXISTS');
  });

  it('label attacks are 400 INVALID_ARGUMENT', async () => {
    for (const label of ['../x', '/etc', 'a b', '-rf', '']) {
      const response = await served.api('/api/lanes', postJson({ label }));
      expect([400]).toContain(response.status);
      const body = (await response.json()) as { error: { code: string } };
      expect(['INVALID_ARGUMENT', 'VALIDATION_ERROR']).toContain(body.error.code);
    }
  });

  it('wrong types, unknown fields and missing fields are 400 VALIDATION_ERROR naming the field', async () => {
    expect(await expectError(await served.api('/api/lanes', postJson({ label: 7 })), 400, 'VALIDATION_ERROR')).toMatch(
      /label/,
    );
    await expectError(await served.api('/api/lanes', postJson({ colour: 'red' })), 400, 'VALIDATION_ERROR');
    const lane = (await (await served.api('/api/lanes', postJson({}))).json()) as LaneView;
    expect(
      await expectError(await served.api(`/api/lanes/${lane.id}/exec`, postJson({})), 400, 'VALIDATION_ERROR'),
    ).toMatch(/argv/);
    await expectError(
      await served.api(`/api/lanes/${lane.id}/exec`, postJson({ argv: 'ls' })),
      400,
      'VALIDATION_ERROR',
    );
    await expectError(
      await served.api(`/api/lanes/${lane.id}/ptys`, postJson({ cols: 'wide' })),
      400,
      'VALIDATION_ERROR',
    );
    await expectError(
      await served.api(`/api/lanes/${lane.id}/cleanup`, postJson({ discard: 'yes' })),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('a body that is not a JSON object is 400 VALIDATION_ERROR', async () => {
    const post = (body: string, type: string) =>
      served.api('/api/lanes', { method: 'POST', headers: { 'content-type': type }, body });
    await expectError(await post('[1,2]', 'application/json'), 400, 'VALIDATION_ERROR');
    await expectError(await post('"label"', 'application/json'), 400, 'VALIDATION_ERROR');
    await expectError(await post('{not json', 'application/json'), 400, 'VALIDATION_ERROR');
    await expectError(await post('label=x', 'text/plain'), 400, 'VALIDATION_ERROR');
  });

  it('an oversized body is 413 in the error shape', async () => {
    const body = JSON.stringify({ label: 'x'.repeat(2 * 1024 * 1024) });
    const response = await served.api('/api/lanes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await expectError(response, 413, 'INVALID_ARGUMENT');
  });

  it('unknown lanes, PTYs and routes are 404 NOT_FOUND', async () => {
    await expectError(await served.api('/api/lanes/lane_nope'), 404, 'NOT_FOUND');
    await expectError(await served.api('/api/lanes/lane_nope/exec', postJson({ argv: ['ls'] })), 404, 'NOT_FOUND');
    await expectError(await served.api('/api/lanes/lane_nope/ptys', postJson({})), 404, 'NOT_FOUND');
    await expectError(await served.api('/api/lanes/lane_nope/cleanup', postJson({})), 404, 'NOT_FOUND');
    await expectError(await served.api('/api/ptys/pty_nope/terminate', postJson({})), 404, 'NOT_FOUND');
    await expectError(await served.api('/api/nothing'), 404, 'NOT_FOUND');
    await expectError(await served.api('/api/lanes', { method: 'DELETE' }), 404, 'NOT_FOUND');
  });

  it("diffs, commits and merges a lane's work; a conflicting merge is 409 CONFLICT; conflicts are listed", async () => {
    const make = async (label: string) =>
      (await (await served.api('/api/lanes', postJson({ label }))).json()) as LaneView;
    const [left, right] = [await make('left'), await make('right')];
    for (const [lane, text] of [
      [left, 'left'],
      [right, 'right'],
    ] as const) {
      writeFileSync(join(lane.worktreePath, 'dir1', 'file1.txt'), `${text}\n`);
    }
    const diff = await served.api(`/api/lanes/${left.id}/diff`);
    expect(diff.status).toBe(200);
    expect(await diff.json()).toMatchObject({ files: [{ path: 'dir1/file1.txt', status: 'modified' }] });
    for (const lane of [left, right]) {
      const commit = await served.api(`/api/lanes/${lane.id}/commit`, postJson({ message: `${lane.label} work` }));
      expect(((await commit.json()) as { commit: string }).commit).toMatch(/^[0-9a-f]{40}$/);
    }
    const conflicts = await served.api('/api/conflicts');
    expect(await conflicts.json()).toEqual([{ lanes: [left.id, right.id], files: ['dir1/file1.txt'] }]);
    const merged = await served.api(`/api/lanes/${left.id}/merge`, postJson({ strategy: 'squash', clean: true }));
    expect(merged.status).toBe(200);
    expect(await merged.json()).toMatchObject({ into: 'main', cleanup: { laneId: left.id } });
    const refused = await served.api(`/api/lanes/${right.id}/merge`, postJson({}));
    expect(await expectError(refused, 409, 'CONFLICT')).toContain('dir1/file1.txt');
    await expectError(await served.api(`/api/lanes/${right.id}/commit`, postJson({})), 400, 'VALIDATION_ERROR');
    await served.api(`/api/lanes/${right.id}/cleanup`, postJson({ discard: true }));
  });

  it('a merge says whether uncommitted work stayed behind; a worktree gone meanwhile does not fail the merge', async () => {
    const make = async (label: string) =>
      (await (await served.api('/api/lanes', postJson({ label }))).json()) as LaneView;
    const [drafty, gone] = [await make('drafty'), await make('gone')];
    for (const lane of [drafty, gone]) {
      writeFileSync(join(lane.worktreePath, `${lane.label}.txt`), 'committed\n');
      await served.api(`/api/lanes/${lane.id}/commit`, postJson({ message: `${lane.label} work` }));
    }
    writeFileSync(join(drafty.worktreePath, 'draft.txt'), 'not committed\n');
    const merged = await served.api(`/api/lanes/${drafty.id}/merge`, postJson({}));
    expect(await merged.json()).toMatchObject({ into: 'main', uncommitted: true });

    // Someone removed the worktree under the live runtime: the merge is done, so it is reported.
    rmSync(gone.worktreePath, { recursive: true, force: true });
    const tipBefore = gitIn(served.fixture.repo.path, 'rev-parse', 'main');
    const mergedGone = await served.api(`/api/lanes/${gone.id}/merge`, postJson({}));
    expect(mergedGone.status).toBe(200);
    const body = (await mergedGone.json()) as { commit: string; uncommitted?: boolean };
    expect(body.uncommitted).toBeUndefined();
    expect(gitIn(served.fixture.repo.path, 'rev-parse', 'main')).toBe(body.commit);
    expect(body.commit).not.toBe(tipBefore);
    for (const lane of [drafty, gone]) await served.api(`/api/lanes/${lane.id}/cleanup`, postJson({ discard: true }));
  });

  it('an unknown template is 404 NOT_FOUND', async () => {
    await expectError(await served.api('/api/lanes', postJson({ template: 'nope' })), 404, 'NOT_FOUND');
  });

  it('a failure of the runtime is 500 with a generic message: no stack, no path', async () => {
    const lane = (await (await served.api('/api/lanes', postJson({}))).json()) as LaneView;
    const response = await served.api(`/api/lanes/${lane.id}/exec`, postJson({ argv: ['/no/such/program-xyz'] }));
    const message = await expectError(response, 500, 'INTERNAL_ERROR');
    expect(message).not.toContain('/no/such');
    expect(message).not.toMatch(/\n\s+at /);
  });
});
