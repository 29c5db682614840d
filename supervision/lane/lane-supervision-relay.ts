import type { ActorRefFrom } from 'xstate';
import type { LaneId, PtyId } from '../../bus/ids.js';
import type { laneMachine } from '../../machines/lane/lane.machine.js';
import type { RuntimeContext } from '../runtime/runtime-context.js';
import type { LanePtys } from './lane-ptys.js';

/**
 * What a lane machine emits as it supervises its PTYs, carried out: each generation it spawns is
 * taken over by its PTY's handle (which starts its process), a restart and an escalation are
 * published as `supervisor.restarted` / `supervisor.escalated`, and a PTY it finished is let go.
 */
export function relaySupervision(
  actor: ActorRefFrom<typeof laneMachine>,
  terminals: LanePtys,
  bus: RuntimeContext['bus'],
  laneId: LaneId,
  correlationId: () => string,
): void {
  actor.on('pty_generation_started', ({ ptyId, generation }) =>
    terminals.generationStarted(actor.getSnapshot().children, ptyId, generation),
  );
  actor.on('pty_restarting', ({ ptyId, generation, delayMs }) => {
    const pty = terminals.get(ptyId);
    pty?.restarting();
    bus.publishLifecycle(
      'supervisor.restarted',
      { laneId, ptyId: ptyId as PtyId, generation, restarts: pty?.restarts ?? 0, delayMs },
      { correlationId: correlationId() },
    );
  });
  actor.on('pty_escalated', ({ ptyId, reason }) => {
    bus.publishLifecycle(
      'supervisor.escalated',
      { laneId, ptyId: ptyId as PtyId, reason },
      { correlationId: correlationId() },
    );
  });
  actor.on('pty_finished', ({ ptyId }) => terminals.finished(ptyId));
}
