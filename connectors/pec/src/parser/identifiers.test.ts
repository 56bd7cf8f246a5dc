import { describe, expect, it } from 'vitest';
import { clientMessageId, messageIdOf } from './identifiers.js';

describe('messageIdOf', () => {
  it.each([
    ['<abc@x>', 'abc@x'],
    ['  <abc@x> (Outlook)', 'abc@x'],
    ['(sent by (nested \\) comment)) <abc@x>', 'abc@x'],
    ['<abc@x>\r\n <second@x>', 'abc@x'],
    ['abc@x (no brackets)', 'abc@x'],
    ['<a(b)c@x>', 'a(b)c@x'],
  ])('%j gives %j', (value, id) => expect(messageIdOf(value)).toBe(id));

  it.each(['', '   ', '(only a comment)', '<>'])('%j gives null', (value) =>
    expect(messageIdOf(value)).toBeNull(),
  );
});

describe('clientMessageId', () => {
  const header = (value: string | undefined) => ({ name: 'X-Riferimento-Message-ID', value });
  const signed = (value: string | null) => ({ name: 'daticert msgid', value });

  it('takes the signed id over a header that disagrees, and names both', () => {
    const problems: string[] = [];
    expect(clientMessageId(header('<other@x>'), signed('<abc@x>'), problems)).toBe('<abc@x>');
    expect(problems).toEqual([
      'X-Riferimento-Message-ID <other@x> differs from the signed daticert msgid <abc@x>: daticert msgid is used',
    ]);
  });

  it('falls back to whichever is present, quietly when they agree', () => {
    const problems: string[] = [];
    expect(clientMessageId(header(''), signed('<abc@x>'), problems)).toBe('<abc@x>');
    expect(clientMessageId(header('<abc@x> (Outlook)'), signed(null), problems)).toBe('<abc@x>');
    expect(clientMessageId(header('<abc@x> (Outlook)'), signed('<abc@x>'), problems)).toBe(
      '<abc@x>',
    );
    expect(clientMessageId(header(undefined), signed(null), problems)).toBeNull();
    expect(problems).toEqual([]);
  });
});
