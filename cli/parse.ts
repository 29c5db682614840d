import { InvalidArgumentError } from 'commander';

/**
 * Strict parsers for option values: `1.5`, `2abc`, ` 3` and `` are refused (commander reports them
 * as usage errors, exit 2), never rounded or cut.
 */
const WHOLE_NUMBER = /^(0|[1-9][0-9]*)$/;

export function wholeNumber(what: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const number = WHOLE_NUMBER.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`expected a whole number of ${what}, ${range}`);
    }
    return number;
  };
}

/** `--label a --label b`: every value, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const AGE_UNITS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `30m`, `12h`, `7d`, `2w` (or `0s`) as milliseconds. */
export function age(value: string): number {
  const match = /^(0|[1-9][0-9]{0,5})([smhdw])$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected an age such as 30m, 12h, 7d or 2w');
  return Number(match[1]) * (AGE_UNITS[match[2] as string] as number);
}
