/**
 * Refuses XML constructs that no BPMN diagram needs and that attackers use:
 * a DOCTYPE enables entity expansion (billion laughs) and external entities
 * (local file reads). Checked on the raw text before any parser sees it.
 */
import { declarationIn } from '../../engine/model/xml-guard.js';
import { BadRequestError } from '../../errors.js';

export function guardXml(xml: string, source = 'document'): void {
  const start = xml.replace(/^\uFEFF/, '').trimStart();
  if (start === '') throw new BadRequestError('invalid-xml', `${source} is empty`, { source });
  if (!start.startsWith('<')) {
    throw new BadRequestError('invalid-xml', `${source} is not XML: it does not start with '<'`, {
      source,
    });
  }
  const construct = declarationIn(xml);
  if (construct) {
    throw new BadRequestError(
      'xml-forbidden-construct',
      `${source} contains a ${construct} declaration; DOCTYPE and ENTITY declarations are refused because entity expansion can exhaust the server (billion laughs) or read local files`,
      { source, construct },
    );
  }
}
