/**
 * Turns whatever a handler threw into a message that is safe to hand to another component or
 * process: its first line only (no stack trace), with file paths and file URLs replaced.
 */
const PATH_IN_TEXT = /(^|[\s(['"=,])(?:file:\/\/)?(?:\/|[A-Za-z]:\\)[^\s)'"\],]*/g;
const PATH_PLACEHOLDER = '<path>';
/** Enough for any useful error sentence; longer messages are usually dumps. */
export const MAX_SANITIZED_MESSAGE_LENGTH = 500;

export function sanitizeErrorMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : typeof error === 'string' ? error : describeNonError(error);
  const firstLine = raw.split('\n', 1)[0]?.trim() ?? '';
  const withoutPaths = firstLine.replace(PATH_IN_TEXT, `$1${PATH_PLACEHOLDER}`);
  const message = withoutPaths.length > 0 ? withoutPaths : 'unknown error';
  return message.length > MAX_SANITIZED_MESSAGE_LENGTH ? `${message.slice(0, MAX_SANITIZED_MESSAGE_LENGTH)}…` : message;
}

function describeNonError(value: unknown): string {
  if (value === null || value === undefined) return `threw ${String(value)}`;
  if (typeof value === 'object') return 'threw a non-Error object';
  return `threw ${String(value)}`;
}
