import { describe, expect, it } from 'vitest';
import { LAST_LINE_MAX_CHARS, lastLineOf, plainLine } from '../../../supervision/control/last-line.js';

describe('the last line of a terminal', () => {
  it('is the last line with text, as a person reads it', () => {
    expect(lastLineOf('one\r\ntwo\r\n\r\n')).toBe('two');
    expect(lastLineOf('\u001b[1;32mgreen\u001b[0m\n\u001b]0;title\u0007')).toBe('green');
    expect(lastLineOf('10%\r50%\r100% done')).toBe('100% done');
    expect(lastLineOf('bell\u0007 here\n')).toBe('bell here');
    expect(lastLineOf('\u001b[1mbold\u001b(B done')).toBe('bold done');
    expect(lastLineOf('\u001bP1$r0m\u001b\\ok')).toBe('ok');
    expect(lastLineOf('')).toBeNull();
    expect(lastLineOf('\u001b[2J\u001b[H\r\n  \n')).toBeNull();
  });

  it('is shortened with an ellipsis past its bound', () => {
    const line = lastLineOf('x'.repeat(500)) as string;
    expect(line).toHaveLength(LAST_LINE_MAX_CHARS);
    expect(line.endsWith('…')).toBe(true);
  });

  it('keeps tabs, drops what a carriage return overwrote', () => {
    expect(plainLine('a\tb')).toBe('a\tb');
    expect(plainLine('old text\rnew')).toBe('new');
  });
});
