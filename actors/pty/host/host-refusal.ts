import { LanevisorError } from '../../../bus/errors.js';
import { HOST_PROTOCOL_VERSION, type HostMessage, type HostRefusal } from './host-protocol.js';

/** How a host of protocol 1, which sent only a reason, said that a client spoke another protocol. */
const OTHER_PROTOCOL_REASON = /^protocol \S+ is not (\d+)$/;

/** What a refused client learns of the host, in its error's `details`. */
export type RefusalDetails = {
  /** The host's protocol, when it refused this client for speaking another one. */
  readonly hostProtocol?: number;
  readonly hostPid?: number;
  /** The PTYs it holds (hosts of protocol 1 do not say). */
  readonly heldPtys?: number;
};

/** The host's protocol when it refused for a client of another one, else undefined. */
function otherProtocolOf(refusal: HostRefusal): number | undefined {
  if (refusal.version !== undefined) return refusal.version;
  const match = OTHER_PROTOCOL_REASON.exec(refusal.reason);
  return match === null ? undefined : Number(match[1]);
}

/**
 * The error a runtime or a viewer gets when the host refused it. A host of another protocol was
 * started by another version of lanevisor (an upgrade while it still runs): the message says what
 * it holds and the ways on, since nothing of this version can drive or adopt its terminals.
 */
export function refusalError(refusal: HostRefusal, logFile: string): LanevisorError {
  const hostProtocol = otherProtocolOf(refusal);
  if (hostProtocol === undefined) {
    return new LanevisorError('INVALID_STATE', `the terminal host refused this connection: ${refusal.reason}`);
  }
  const { hostPid, heldPtys } = refusal;
  const host = hostPid === undefined ? 'the terminal host' : `the terminal host (pid ${hostPid})`;
  const holds =
    heldPtys === undefined
      ? ''
      : `; it holds ${heldPtys} terminal${heldPtys === 1 ? '' : 's'}, which this version cannot adopt`;
  const stop = hostPid === undefined ? `stop it (its pid is in ${logFile})` : `stop it (kill ${hostPid})`;
  const details: RefusalDetails = {
    hostProtocol,
    ...(hostPid === undefined ? {} : { hostPid }),
    ...(heldPtys === undefined ? {} : { heldPtys }),
  };
  return new LanevisorError(
    'INVALID_STATE',
    `${host} speaks protocol ${hostProtocol} and this lanevisor ${HOST_PROTOCOL_VERSION}: another version of lanevisor started it${holds}. ` +
      `It exits by itself once it holds no terminals and serves no runtime (a crashed runtime's terminals linger for pty.lingerMs first). ` +
      `To go on now, ${stop}, which ends its terminals, or use the version of lanevisor that started it.`,
    { details },
  );
}

/** The error for any answer to a hello but a welcome: a refusal says what to do, anything else is the host's fault. */
export function notWelcomedError(answer: HostMessage, logFile: string): LanevisorError {
  if (answer.t === 'refused') return refusalError(answer, logFile);
  return new LanevisorError('INTERNAL_ERROR', `the terminal host answered ${answer.t} to a hello`);
}
