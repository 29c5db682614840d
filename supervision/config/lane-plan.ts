import { LanevisorError } from '../../bus/errors.js';
import { createBaseEnvironment } from '../pty/spawn-request.js';
import { DEFAULT_SETUP_TIMEOUT_MS, type LanevisorConfig, TEMPLATE_NAME_PATTERN } from './config-schema.js';

/** The variable that carries a lane's port. */
export const PORT_VARIABLE = 'LANEVISOR_PORT';

/**
 * What one lane is made with: the file's settings, a template's over them, the caller's options
 * over both. A template's `setup` keys and `sparse` replace the file's; its `env.set` adds to (and
 * wins over) the file's, its `env.deny` adds to the file's.
 */
export interface LanePlan {
  readonly template: string | null;
  readonly baseRef: string;
  /** Null when the caller asked for none (`setup: false`). */
  readonly setup: {
    readonly copy: readonly string[];
    readonly symlink: readonly string[];
    readonly run: readonly string[];
    readonly timeoutMs: number;
  } | null;
  readonly teardown: readonly string[];
  readonly sparse: readonly string[] | null;
  readonly env: { readonly set: Readonly<Record<string, string>>; readonly deny: readonly string[] };
}

export interface PlanOptions {
  readonly template?: string | undefined;
  readonly baseRef?: string | undefined;
  readonly setup?: false | undefined;
}

export function planLane(config: LanevisorConfig, options: PlanOptions): LanePlan {
  const template = options.template === undefined ? undefined : templateOf(config, options.template);
  const setup = { ...config.setup, ...template?.setup };
  return {
    template: options.template ?? null,
    baseRef: options.baseRef ?? template?.baseRef ?? config.baseRef ?? 'HEAD',
    setup:
      options.setup === false
        ? null
        : {
            copy: setup.copy ?? [],
            symlink: setup.symlink ?? [],
            run: setup.run ?? [],
            timeoutMs: setup.timeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS,
          },
    teardown: config.teardown?.run ?? [],
    sparse: template?.sparse ?? config.sparse ?? null,
    env: {
      set: { ...config.env?.set, ...template?.env?.set },
      deny: [...(config.env?.deny ?? []), ...(template?.env?.deny ?? [])],
    },
  };
}

function templateOf(config: LanevisorConfig, name: string) {
  const templates = config.templates ?? {};
  // Looked up as an own key only: a name like "__proto__" or "constructor" is just unknown.
  const found = TEMPLATE_NAME_PATTERN.test(name) && Object.hasOwn(templates, name) ? templates[name] : undefined;
  if (found !== undefined) return found;
  const known = Object.keys(templates).sort();
  throw new LanevisorError(
    'NOT_FOUND',
    `no template ${JSON.stringify(name.slice(0, 80))} in lanevisor.json; ${known.length === 0 ? 'it defines none' : `it has ${known.join(', ')}`}`,
    { details: { template: name.slice(0, 80) } },
  );
}

/** What a lane's placeholders stand for. */
export interface LaneVariables {
  readonly laneId: string;
  readonly label: string | null;
  readonly port: number | null;
}

/**
 * The environment a lane's PTYs, execs and setup start from: the orchestrator's without what
 * `env.deny` names (PATH and HOME stay present, or nothing could be found: the defaults every
 * PTY's base environment has), `env.set` with its placeholders filled, and the lane's port. The
 * tag variables go on top later, always.
 */
export function laneEnvironment(
  base: Readonly<Record<string, string>>,
  env: LanePlan['env'],
  vars: LaneVariables,
): Record<string, string> {
  const denied = env.deny.map(globToRegExp);
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(base))
    if (!denied.some((pattern) => pattern.test(name))) kept[name] = value;
  const out = { ...createBaseEnvironment(kept) };
  const fill: Record<string, string> = {
    laneId: vars.laneId,
    label: vars.label ?? vars.laneId,
    port: String(vars.port ?? ''),
  };
  for (const [name, value] of Object.entries(env.set))
    out[name] = value.replace(/\{\{(\w+)\}\}/g, (_, key: string) => fill[key] ?? '');
  if (vars.port !== null) out[PORT_VARIABLE] = String(vars.port);
  return out;
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/**
 * The lowest free port slot: `base + slot * perLane` for the smallest slot no live lane holds,
 * CAPACITY when none is left below 65536.
 */
export function allocatePort(ports: LanevisorConfig['ports'], taken: ReadonlySet<number>): number | null {
  if (ports === undefined) return null;
  const step = ports.perLane ?? 1;
  for (let port = ports.base; port <= 65_535; port += step) if (!taken.has(port)) return port;
  throw new LanevisorError(
    'CAPACITY',
    `no port left for a new lane: ports.base ${ports.base} with ${step} per lane reaches 65535 (${taken.size} in use)`,
  );
}
