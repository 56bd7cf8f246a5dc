import { decodedBody, parseEntity, walk, type MimeEntity } from '../../mime/entity.js';
import { createTestCa, createTestProvider, type TestProvider } from '../index.js';

export const DATE = new Date('2026-11-26T09:15:30Z');

export function world(): { sender: TestProvider; receiver: TestProvider } {
  const ca = createTestCa();
  return {
    sender: createTestProvider(ca, {
      domain: 'pec.mittente.test',
      name: 'Gestore Mittente S.p.A.',
    }),
    receiver: createTestProvider(ca, { domain: 'pec.comune.test', name: 'Gestore Comune S.r.l.' }),
  };
}

/** The leaf parts of a certified message, by filename. */
export function partNamed(raw: Buffer, filename: string): MimeEntity | undefined {
  return [...walk(parseEntity(raw, []))].find((e) => e.filename === filename);
}

/** postacert.eml's bytes, as carried in the certified message. */
export function postacertOf(raw: Buffer): Buffer | undefined {
  const part = partNamed(raw, 'postacert.eml');
  return part && raw.subarray(part.bodyStart, part.bodyEnd);
}

export function daticertOf(raw: Buffer): string | undefined {
  const part = partNamed(raw, 'daticert.xml');
  return part && decodedBody(raw, part).toString('utf8');
}

/** Every leaf part of a message: content type and filename as a MIME reader sees them. */
export function leaves(raw: Buffer): Array<{ contentType: string; filename: string | null }> {
  const root = parseEntity(raw, []);
  return [...walk(root)]
    .filter((e) => e !== root && e.children.length === 0)
    .map((e) => ({ contentType: e.contentType, filename: e.filename }));
}
