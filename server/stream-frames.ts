import { z } from 'zod';

/** What a terminal viewer may send over `/api/ptys/:ptyId/stream`. */
export const clientFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('input'), data: z.string().min(1) }),
  z.strictObject({
    type: z.literal('resize'),
    cols: z.number().int().min(1).max(10_000),
    rows: z.number().int().min(1).max(10_000),
  }),
  /** `chars`: output chars the client has processed since its previous ack. */
  z.strictObject({ type: z.literal('ack'), chars: z.number().int().min(0) }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export type ServerFrame =
  | { readonly type: 'snapshot'; readonly data: string; readonly cols: number; readonly rows: number }
  | { readonly type: 'output'; readonly data: string }
  | { readonly type: 'exit'; readonly exitCode: number | null; readonly signal: string | null }
  | { readonly type: 'error'; readonly error: { readonly code: string; readonly message: string } };
