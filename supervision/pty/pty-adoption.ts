import { z } from 'zod';
import type { HostPtyInfo } from '../../actors/pty/host/host-protocol.js';
import { idPattern } from '../../bus/ids.js';
import { spawnOptionsSchema } from './spawn-request.js';
import type { SpawnPtyOptions } from './types.js';

/**
 * What the terminal host keeps of each PTY for a runtime that adopts it after a crash: its lane,
 * the spawn options it was made with (so its later restarts are the same command, size and
 * restart type) and how often it was restarted. Written at each start, read back, validated, at
 * adoption; a PTY whose record does not read is not adopted.
 */
const ptyMetaSchema = z.strictObject({
  laneId: z.string().regex(idPattern('lane')),
  options: spawnOptionsSchema,
  restarts: z.number().int().min(0),
});

export type PtyMeta = z.infer<typeof ptyMetaSchema>;

export function ptyMetaOf(laneId: string, options: SpawnPtyOptions | undefined, restarts: number): PtyMeta {
  return { laneId, options: (options ?? {}) as PtyMeta['options'], restarts };
}

/** A host's PTY that a runtime may take over: still running, lingering, its record readable. */
export interface Adoptable {
  readonly info: HostPtyInfo;
  readonly meta: PtyMeta;
}

export function adoptableOf(info: HostPtyInfo): Adoptable | undefined {
  if (!info.lingering || info.ending || info.exit !== null) return undefined;
  const meta = metaOf(info);
  return meta === undefined ? undefined : { info, meta };
}

/** The host's record of a PTY, when it reads. */
export function metaOf(info: HostPtyInfo): PtyMeta | undefined {
  const meta = ptyMetaSchema.safeParse(info.meta);
  return meta.success ? meta.data : undefined;
}
