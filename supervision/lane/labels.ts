import { LanevisorError } from '../../bus/errors.js';

/**
 * Labels are user input that ends up in a branch name and in messages: only what is safe as a
 * git ref component and a path segment passes, and nothing is rewritten.
 */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const BRANCH_PREFIX = 'lane/';

export function validateLabel(label: unknown): string | null {
  if (label === undefined || label === null) return null;
  const text = typeof label === 'string' ? label : String(label);
  const problem =
    typeof label !== 'string'
      ? 'must be a string'
      : !LABEL_PATTERN.test(label)
        ? 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-" (at most 64)'
        : label.includes('..')
          ? 'may not contain ".."'
          : label.endsWith('.lock')
            ? 'may not end in ".lock"'
            : label.endsWith('.')
              ? 'may not end in "." (git refuses such a branch)'
              : undefined;
  if (problem !== undefined) {
    throw new LanevisorError('INVALID_ARGUMENT', `label ${JSON.stringify(text.slice(0, 80))} ${problem}`, {
      details: { field: 'label' },
    });
  }
  return label as string;
}

export function branchOf(label: string | null, laneId: string, prefix: string = BRANCH_PREFIX): string {
  return `${prefix}${label ?? laneId}`;
}

/** The prefixes whose branches may be lanevisor's: the default, and lanevisor.json's `branchPrefix`. */
export function branchPrefixesOf(configured: string | undefined): string[] {
  return configured === undefined || configured === BRANCH_PREFIX ? [BRANCH_PREFIX] : [BRANCH_PREFIX, configured];
}

/** The lock reason of a lane's worktree (`git worktree list` shows it): it marks the worktree as lanevisor's. */
export function laneLockReason(laneId: string): string {
  return `lanevisor lane ${laneId}`;
}
