import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, fromPromise } from 'xstate';
import { runtimeMachine } from '../../machines/runtime.machine.js';
import { INTENSITY } from './lane-fakes.js';

const input = (laneId: string) => ({ laneId, correlationId: 'c', restartIntensity: INTENSITY });

describe('the runtime root machine', () => {
  it('spawns one lane actor per lane, with a readable systemId', () => {
    const root = createActor(runtimeMachine.provide({ actors: { lane: fromCallback(() => undefined) as never } }));
    root.start();
    root.send({ type: 'START_LANE', laneId: 'lane_a', input: input('lane_a') });
    root.send({ type: 'START_LANE', laneId: 'lane_b', input: input('lane_b') });
    expect(Object.keys(root.getSnapshot().children).sort()).toEqual(['lane_a', 'lane_b']);
    expect(root.system.get('lane:lane_a')).toBe(root.getSnapshot().children.lane_a);
    root.stop();
  });

  it('stops a lane that ended, and survives a lane that failed (reporting it)', async () => {
    let finish: () => void = () => undefined;
    const lanes = {
      ends: fromPromise(() => new Promise<void>((resolve) => (finish = resolve))),
      fails: fromCallback(() => {
        throw new Error('lane fault');
      }),
    };
    const root = createActor(runtimeMachine.provide({ actors: { lane: lanes.ends as never } }));
    const crashed: unknown[] = [];
    root.on('lane_crashed', (event) => crashed.push(event));
    root.start();
    root.send({ type: 'START_LANE', laneId: 'lane_ok', input: input('lane_ok') });
    finish();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(root.getSnapshot().children.lane_ok).toBeUndefined();

    const failing = createActor(runtimeMachine.provide({ actors: { lane: lanes.fails as never } }));
    failing.on('lane_crashed', (event) => crashed.push(event));
    failing.start();
    failing.send({ type: 'START_LANE', laneId: 'lane_bad', input: input('lane_bad') });
    expect(failing.getSnapshot().status).toBe('active');
    expect(failing.getSnapshot().children.lane_bad).toBeUndefined();
    expect(crashed).toEqual([expect.objectContaining({ type: 'lane_crashed', laneId: 'lane_bad' })]);
    root.stop();
    failing.stop();
  });
});
