import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode, isLanevisorError, LanevisorError } from '../../bus/errors.js';
import { MAX_SANITIZED_MESSAGE_LENGTH, sanitizeErrorMessage } from '../../bus/sanitize.js';

describe('LanevisorError', () => {
  it('carries a code, details and cause, and serializes without the cause', () => {
    const cause = new Error('inner');
    const error = new LanevisorError('LOCKED', 'held by pid 42', { cause, details: { pid: 42 } });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('LanevisorError');
    expect(error.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'LOCKED',
      message: 'held by pid 42',
      details: { pid: 42 },
    });
    expect(new LanevisorError('TIMEOUT', 'late').toJSON()).toEqual({ code: 'TIMEOUT', message: 'late' });
  });

  it('is recognised by code', () => {
    const error = new LanevisorError('NOT_FOUND', 'x');
    expect(isLanevisorError(error)).toBe(true);
    expect(isLanevisorError(error, 'NOT_FOUND')).toBe(true);
    expect(isLanevisorError(error, 'LOCKED')).toBe(false);
    expect(isLanevisorError(new Error('x'))).toBe(false);
  });

  it('lists every code of the contract', () => {
    expect([...ERROR_CODES].sort()).toEqual(
      [
        'VALIDATION_ERROR',
        'METHOD_NOT_FOUND',
        'HANDLER_ERROR',
        'TIMEOUT',
        'BACKPRESSURE',
        'INVALID_STATE',
        'INVALID_ARGUMENT',
        'CAPACITY',
        'NOT_FOUND',
        'ALREADY_EXISTS',
        'LOCKED',
        'GIT_ERROR',
        'SPAWN_ERROR',
        'INTERNAL_ERROR',
        // Added by the control API's HTTP server (401 and 403).
        'UNAUTHORIZED',
        'FORBIDDEN',
        // Added with diff and merge (a merge's conflicts) and lane setup.
        'CONFLICT',
        'SETUP_FAILED',
        // Added with NATS: a server or a remote runtime that cannot be reached.
        'UNAVAILABLE',
      ].sort(),
    );
    expect(isErrorCode('LOCKED')).toBe(true);
    expect(isErrorCode('locked')).toBe(false);
  });
});

describe('sanitizeErrorMessage', () => {
  it('keeps the first line and hides paths', () => {
    expect(sanitizeErrorMessage(new Error('ENOENT: open "/etc/x/y.json"\n    at f (/a/b.js:1:2)'))).toBe(
      'ENOENT: open "<path>"',
    );
    expect(sanitizeErrorMessage('see file:///srv/x.js:1:2 now')).toBe('see <path> now');
    expect(sanitizeErrorMessage(new Error('ratio 1/2 is fine'))).toBe('ratio 1/2 is fine');
  });

  it('describes values that are not errors, and bounds the length', () => {
    expect(sanitizeErrorMessage(undefined)).toBe('threw undefined');
    expect(sanitizeErrorMessage(42)).toBe('threw 42');
    expect(sanitizeErrorMessage({})).toBe('threw a non-Error object');
    expect(sanitizeErrorMessage(new Error(''))).toBe('unknown error');
    expect(sanitizeErrorMessage('x'.repeat(2_000))).toHaveLength(MAX_SANITIZED_MESSAGE_LENGTH + 1);
  });
});
