import { customAlphabet } from 'nanoid';

/**
 * Ids are `<prefix>_<body>`: the body is lowercase letters and digits only, so an id is URL-safe,
 * a valid path segment on case-insensitive file systems, and a valid git ref component
 * (`lane/lane_…` never needs escaping).
 */
export const ID_PREFIXES = {
  lane: 'lane',
  pty: 'pty',
  event: 'evt',
  correlation: 'cor',
  runtime: 'rt',
  command: 'cmd',
  response: 'res',
  subscription: 'sub',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;
export type IdPrefix = (typeof ID_PREFIXES)[IdKind];
export type Id<K extends IdKind = IdKind> = `${(typeof ID_PREFIXES)[K]}_${string}`;

export type LaneId = Id<'lane'>;
export type PtyId = Id<'pty'>;
export type EventId = Id<'event'>;
export type CorrelationId = Id<'correlation'>;
export type RuntimeId = Id<'runtime'>;
export type CommandId = Id<'command'>;
export type ResponseId = Id<'response'>;
export type SubscriptionId = Id<'subscription'>;

export const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
/** 36^16 ≈ 2^82 bodies: a billion ids give a collision chance near 1e-7. */
export const ID_BODY_LENGTH = 16;

const randomBody = customAlphabet(ID_ALPHABET, ID_BODY_LENGTH);
const ID_BODY_PATTERN = `[0-9a-z]{${ID_BODY_LENGTH}}`;

const ID_PATTERNS: { readonly [K in IdKind]: RegExp } = Object.fromEntries(
  Object.entries(ID_PREFIXES).map(([kind, prefix]) => [kind, new RegExp(`^${prefix}_${ID_BODY_PATTERN}$`)]),
) as { readonly [K in IdKind]: RegExp };

export function createId<K extends IdKind>(kind: K): Id<K> {
  return `${ID_PREFIXES[kind]}_${randomBody()}` as Id<K>;
}

export function isId<K extends IdKind>(kind: K, value: unknown): value is Id<K> {
  return typeof value === 'string' && ID_PATTERNS[kind].test(value);
}

/** The regular expression an id of this kind matches (anchored). */
export function idPattern(kind: IdKind): RegExp {
  return ID_PATTERNS[kind];
}

export const createLaneId = (): LaneId => createId('lane');
export const createPtyId = (): PtyId => createId('pty');
export const createEventId = (): EventId => createId('event');
export const createCorrelationId = (): CorrelationId => createId('correlation');
export const createRuntimeId = (): RuntimeId => createId('runtime');

export const isLaneId = (value: unknown): value is LaneId => isId('lane', value);
export const isPtyId = (value: unknown): value is PtyId => isId('pty', value);
export const isEventId = (value: unknown): value is EventId => isId('event', value);
export const isCorrelationId = (value: unknown): value is CorrelationId => isId('correlation', value);
export const isRuntimeId = (value: unknown): value is RuntimeId => isId('runtime', value);

/** Digits of the counter in a sequential id body; the rest of the body is a random epoch. */
const SEQUENTIAL_COUNTER_DIGITS = 6;

/**
 * A generator of ids of one kind for hot paths (one event id per published event): a random
 * nanoid epoch of 10 characters followed by a base-36 counter of 6, with a fresh epoch every
 * 36^6 ids. The ids have the same shape as `createId`'s and stay unique across generators
 * through the random epoch, at a fraction of the cost of drawing 16 random characters each.
 */
export function createSequentialIdFactory<K extends IdKind>(
  kind: K,
  counterDigits: number = SEQUENTIAL_COUNTER_DIGITS,
): () => Id<K> {
  const prefix = `${ID_PREFIXES[kind]}_`;
  const randomEpoch = customAlphabet(ID_ALPHABET, ID_BODY_LENGTH - counterDigits);
  const counterLimit = ID_ALPHABET.length ** counterDigits;
  let epoch = prefix + randomEpoch();
  let counter = 0;
  return () => {
    if (counter === counterLimit) {
      epoch = prefix + randomEpoch();
      counter = 0;
    }
    return `${epoch}${(counter++).toString(36).padStart(counterDigits, '0')}` as Id<K>;
  };
}
