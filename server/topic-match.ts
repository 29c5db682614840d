import { parsePattern } from '../index.js';
import { HttpError } from './errors.js';

/** The bus's own pattern grammar (exact, `prefix.*` one more segment, `**`) as a predicate. */
export function topicMatcher(pattern: string): (topic: string) => boolean {
  const parsed = parsePattern(pattern);
  if (parsed === undefined) {
    throw new HttpError(
      400,
      'VALIDATION_ERROR',
      `topic: ${JSON.stringify(pattern)} is not a bus pattern; use an exact topic, prefix.* or **`,
    );
  }
  switch (parsed.kind) {
    case 'all':
      return () => true;
    case 'exact':
      return (topic) => topic === parsed.topic;
    case 'children': {
      const prefix = `${parsed.parent}.`;
      return (topic) => topic.startsWith(prefix) && !topic.slice(prefix.length).includes('.');
    }
  }
}
