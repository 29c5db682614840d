import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { INSPECTOR_UI_URL, type InspectorRelay, startInspectorRelay } from '../../cli/inspect-relay.js';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import { createTempRepo, type TempRepo } from '../support/git-repo.js';
import { waitUntil } from '../support/wait.js';

let repo: TempRepo;
let relay: InspectorRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
  repo?.dispose();
});

describe('the --inspect relay', () => {
  it('serves the bridge page on loopback and relays every actor of a lane lifecycle to a viewer, replaying what it missed', async () => {
    repo = createTempRepo();
    relay = await startInspectorRelay();
    expect(relay.pageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await (await fetch(relay.pageUrl)).text();
    expect(page).toContain(`src="${INSPECTOR_UI_URL}"`);
    expect(page).toContain(JSON.stringify(relay.socketUrl));

    const rt = await createRuntime({ repo: repo.path, inspect: relay.inspect });
    const lane = await rt.createLane({ label: 'seen' });
    await lane.cleanup();
    await rt.shutdown();

    // A viewer connecting after the fact gets the recent events, as the Stately inspector would.
    const viewer = new WebSocket(relay.socketUrl);
    const received: { type: string; sessionId?: string; _version?: string }[] = [];
    viewer.on('message', (data) => received.push(JSON.parse(data.toString())));
    await waitUntil(() => received.some((e) => e.type === '@xstate.snapshot'), 'relayed events', 10_000);
    viewer.close();
    const types = new Set(received.map((e) => e.type));
    expect(types).toEqual(new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));
    expect(new Set(received.map((e) => e.sessionId)).size).toBeGreaterThan(3);
  });
});
