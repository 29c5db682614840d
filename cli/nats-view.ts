import type { Command } from 'commander';
import {
  type AttachOptions,
  attachThroughRuntime,
  type LaneView,
  LanevisorError,
  type RemoteRuntimes,
  type Runtime,
  type TerminalAttachment,
  type ViewerEvents,
} from '../index.js';
import type { NatsClient, RuntimeAnnouncement } from '../nats/index.js';
import { table } from './lane-view.js';
import { ageOf } from './options.js';

/** Where `--nats` points: a URL (credentials may be in it, as `nats://user:pass@host:4222`) and a prefix. */
export interface NatsTarget {
  readonly url: string;
  readonly prefix?: string;
}

export function natsTargetOf(flags: { readonly nats?: string; readonly natsPrefix?: string }): NatsTarget | undefined {
  if (flags.nats === undefined) return undefined;
  return { url: flags.nats, ...(flags.natsPrefix === undefined ? {} : { prefix: flags.natsPrefix }) };
}

/** The `--nats` options of a command. */
export function addNatsOptions(command: Command, what: string): Command {
  return command
    .option('--nats <url>', what)
    .option('--nats-prefix <prefix>', 'the subject prefix of that NATS (default lanevisor)');
}

const serverOptionsOf = (target: NatsTarget) => ({
  servers: target.url,
  ...(target.prefix === undefined ? {} : { prefix: target.prefix }),
});

/** NATS is loaded only by the commands given `--nats`. */
async function natsClient(target: NatsTarget): Promise<{ client: NatsClient; shown: string }> {
  const { connectNatsClient, redactedUrl } = await import('../nats/index.js');
  return { client: await connectNatsClient(serverOptionsOf(target)), shown: redactedUrl(target.url) };
}

export interface RemoteRuntime {
  readonly announcement: RuntimeAnnouncement;
  readonly lanes: readonly LaneView[];
}

/** `status --nats`: every runtime on that NATS with its lanes (one that stops answering meanwhile is left out). */
export async function remoteStatus(target: NatsTarget): Promise<{ runtimes: RemoteRuntime[]; text: string }> {
  const { client, shown } = await natsClient(target);
  try {
    const runtimes = await lanesOfAll(client);
    return { runtimes, text: describeRemoteRuntimes(shown, runtimes) };
  } finally {
    await client.close();
  }
}

async function lanesOfAll(client: NatsClient): Promise<RemoteRuntime[]> {
  return lanesOf(client, await client.discover());
}

/** Each runtime's lanes; one that does not answer (within `timeoutMs`, when given) is left out. */
async function lanesOf(
  client: NatsClient,
  announcements: readonly RuntimeAnnouncement[],
  timeoutMs?: number,
): Promise<RemoteRuntime[]> {
  const answered = await Promise.all(
    announcements.map(async (announcement): Promise<RemoteRuntime | undefined> => {
      const options = timeoutMs === undefined ? {} : { timeoutMs };
      const lanes = (await client.request(announcement.runtimeId, 'lane.list', {}, options).catch(() => undefined)) as
        | LaneView[]
        | undefined;
      return lanes === undefined ? undefined : { announcement, lanes };
    }),
  );
  return answered.filter((runtime): runtime is RemoteRuntime => runtime !== undefined);
}

/** `status --nats`: the runtimes grouped by host, each with its lanes and their PTYs. */
function describeRemoteRuntimes(url: string, runtimes: readonly RemoteRuntime[]): string {
  if (runtimes.length === 0) return `no runtime is announced on ${url}\n`;
  const hosts = [...new Set(runtimes.map((runtime) => runtime.announcement.host))];
  return hosts
    .map((host) => {
      const here = runtimes.filter((runtime) => runtime.announcement.host === host);
      const blocks = here.map(({ announcement: a, lanes }) => {
        const head = `  runtime ${a.runtimeId}, pid ${a.pid}, up ${ageOf(a.startedAt)}, ${a.repo}\n`;
        if (lanes.length === 0) return `${head}  no lanes\n`;
        const rows = lanes.map((lane) => [
          lane.id,
          lane.label ?? '-',
          lane.state,
          lane.branch,
          String(lane.ptys.length),
          lane.ptys.map((pty) => pty.id).join(' '),
        ]);
        const lines = table([['LANE', 'LABEL', 'STATE', 'BRANCH', 'PTYS', 'PTY IDS'], ...rows]).split('\n');
        return `${head}${lines.map((line) => `  ${line}`).join('\n')}\n`;
      });
      return `host ${host}\n${blocks.join('')}`;
    })
    .join('\n');
}

/** `attach --nats`: the lane (label or id) on whichever runtime of that NATS has it, its terminal through a NATS session. */
export async function attachOverNats(
  target: NatsTarget,
  options: Omit<AttachOptions, 'repo' | 'stateDir'>,
  events: ViewerEvents,
): Promise<TerminalAttachment> {
  const { client, shown: url } = await natsClient(target);
  try {
    const runtimes = await lanesOfAll(client);
    const holders = runtimes.filter(({ lanes }) =>
      lanes.some((l) => l.id === options.lane || l.label === options.lane),
    );
    if (holders.length !== 1) {
      const where = holders.map(({ announcement: a }) => `${a.runtimeId} on ${a.host}`).join(', ');
      throw new LanevisorError(
        holders.length === 0 ? 'NOT_FOUND' : 'INVALID_ARGUMENT',
        holders.length === 0
          ? `no runtime on ${url} has a lane ${JSON.stringify(options.lane)} (lanevisor status --nats ${url})`
          : `lane ${JSON.stringify(options.lane)} is on several runtimes (${where}); name it by its lane id`,
      );
    }
    const connection = await client.connectRuntime((holders[0] as RemoteRuntime).announcement.runtimeId);
    const attached = await attachThroughRuntime(connection, { ...options, repo: '' }, events);
    return {
      ...attached,
      detach: async () => {
        await attached.detach();
        await client.close();
      },
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** The time a remote runtime has to answer `lane.list` for the dashboard before it is left out of that answer. */
export const REMOTE_LIST_TIMEOUT_MS = 2_000;

/**
 * `serve --nats`: the runtime joined to that NATS (so others see it), and the other runtimes there
 * as the server's `remote` (their lanes listed, their commands and terminals reached over NATS).
 */
export async function joinNats(
  rt: Runtime,
  target: NatsTarget,
): Promise<{ readonly remote: RemoteRuntimes; close(): Promise<void> }> {
  const { connectNats } = await import('../nats/index.js');
  const link = await connectNats(rt, serverOptionsOf(target));
  const { client } = await natsClient(target).catch(async (error: unknown) => {
    await link.close();
    throw error;
  });
  const watch = await client.watchRuntimes({ onChange: () => undefined });
  const remote: RemoteRuntimes = {
    list: async () => {
      const others = watch.runtimes().filter((announcement) => announcement.runtimeId !== rt.id);
      const answered = await lanesOf(client, others, REMOTE_LIST_TIMEOUT_MS);
      return answered.map(({ announcement: { runtimeId, host, repo }, lanes }) => ({
        runtime: { id: runtimeId, host, repo },
        lanes,
      }));
    },
    request: (runtimeId, method, payload) => client.request(runtimeId, method, payload),
    connect: (runtimeId) => client.connectRuntime(runtimeId),
  };
  return {
    remote,
    close: async () => {
      watch.stop();
      await client.close();
      await link.close();
    },
  };
}
