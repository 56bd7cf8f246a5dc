import libmime from 'libmime';
import { describe, expect, it } from 'vitest';
import { buildCorpus, createTestCa } from '../testkit/index.js';
import { parseEntity, type MimeEntity } from './entity.js';

/** Content-Type and Content-Disposition are split by hand when simple, by libmime otherwise. */
describe('structured header values', () => {
  it('read as libmime reads them, for every value of a testkit mailbox and tricky ones', () => {
    const values = new Set([
      'a/b; x',
      'a/b; x=1; x=2',
      'a/b; X=1',
      'a/b ; name = "a b.pdf" ; size=3',
      'a/b; name="x;y"',
      'a/b; name="unterminated',
      'a/b; =x',
      'a/b;;',
      'a/b; name=a b',
      'a/b; name="é.pdf"',
      '"a/b"',
      "a/b; name*=utf-8''%E2%82%AC.pdf",
      'a/b; name="=?UTF-8?Q?caf=C3=A8?="',
      'a/b; name=x (comment)',
    ]);
    const collect = (entity: MimeEntity): void => {
      for (const name of ['content-type', 'content-disposition']) {
        const value = entity.headers.get(name);
        if (value) values.add(value);
      }
      entity.children.forEach(collect);
    };
    for (const { raw } of buildCorpus({ ca: createTestCa(), count: 150, seed: 3 }))
      collect(parseEntity(raw, []));
    expect(values.size).toBeGreaterThan(50);
    for (const value of values) {
      const entity = parseEntity(Buffer.from(`Content-Type: ${value}\r\n\r\n`), []);
      const expected = libmime.parseHeaderValue(value);
      expect({ value: entity.contentType, params: entity.params }, value).toEqual({
        value: expected.value.trim().toLowerCase() || 'text/plain',
        params: expected.params,
      });
    }
  });
});
