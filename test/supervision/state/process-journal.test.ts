import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLaneId, createPtyId, createRuntimeId } from '../../../bus/ids.js';
import { ProcessJournal, type PtyJournalRecord } from '../../../supervision/state/process-journal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function journal(): Promise<{ journal: ProcessJournal; ptysDir: string }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'lanevisor-journal-'));
  dirs.push(stateDir);
  const made = new ProcessJournal(stateDir);
  await made.init();
  return { journal: made, ptysDir: join(stateDir, 'ptys') };
}

function record(pid: number): PtyJournalRecord {
  return {
    version: 1,
    ptyId: createPtyId(),
    laneId: createLaneId(),
    runtimeId: createRuntimeId(),
    pid,
    pgid: pid,
    sid: pid,
    startTime: 1_000 + pid,
    spawnedAt: Date.now(),
    restart: 'transient',
  };
}

describe('the process journal: PTY records written in batches', () => {
  it('a PTY is on disk once settled() resolves, and many asked for in one turn all land together', async () => {
    const { journal: j, ptysDir } = await journal();
    const records = Array.from({ length: 100 }, (_, i) => record(100 + i));
    for (const r of records) j.ptySpawned(r);
    // Nothing is written in the turn that asked.
    expect(readdirSync(ptysDir)).toEqual([]);
    await j.settled((records[0] as PtyJournalRecord).ptyId);
    expect(readdirSync(ptysDir).sort()).toEqual(records.map((r) => `${r.ptyId}.json`).sort());
    const read = await j.ptyRecords();
    expect(read.problems).toEqual([]);
    expect(read.records).toEqual([...records].sort((a, b) => a.ptyId.localeCompare(b.ptyId)));
    // No temporary file is left beside them.
    expect(readdirSync(ptysDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('the last change asked for a PTY wins: a restart rewrites it, a stop removes it, in the same turn or later', async () => {
    const { journal: j, ptysDir } = await journal();
    const first = record(200);
    const restarted = { ...first, pid: 201, pgid: 201, sid: 201, startTime: 1_201 };
    j.ptySpawned(first);
    j.ptySpawned(restarted);
    await j.settled(first.ptyId);
    expect(JSON.parse(readFileSync(join(ptysDir, `${first.ptyId}.json`), 'utf8'))).toEqual(restarted);

    const gone = record(300);
    j.ptySpawned(gone);
    j.ptyStopped(gone.ptyId);
    j.ptyStopped(first.ptyId);
    await j.flush();
    expect(existsSync(join(ptysDir, `${gone.ptyId}.json`))).toBe(false);
    expect(readdirSync(ptysDir)).toEqual([]);

    // Stopped, then spawned again in one turn (a PTY id revived): the file is there.
    j.ptyStopped(first.ptyId);
    j.ptySpawned(first);
    await j.settled(first.ptyId);
    expect((await j.ptyRecords()).records).toEqual([first]);
  });

  it('settled() and flush() resolve at once when nothing is waiting', async () => {
    const { journal: j } = await journal();
    await j.flush();
    await j.settled(createPtyId());
    const r = record(400);
    j.ptySpawned(r);
    await j.flush();
    // Already landed: settling again waits for nothing.
    await j.settled(r.ptyId);
    expect((await j.ptyRecords()).records).toEqual([r]);
  });
});
