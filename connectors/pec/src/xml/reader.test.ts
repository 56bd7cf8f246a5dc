import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { decodedBody, parseEntity, walk } from '../mime/entity.js';
import { buildCorpus, createTestCa } from '../testkit/index.js';
import { readXml, XmlSyntaxError } from './reader.js';

/** fast-xml-parser with the options the connector read provider documents with before. */
function reference(text: string, arrays: readonly string[]): unknown {
  const local = (name: string) => name.slice(name.indexOf(':') + 1);
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    attributesGroupName: '@',
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    isArray: (name) => arrays.includes(local(name)),
  }).parse(text, true);
}

const DATICERT_ARRAYS = ['destinatari', 'ricezione'];

describe('readXml', () => {
  it('reads every provider document of a testkit mailbox as fast-xml-parser did', () => {
    const corpus = buildCorpus({
      ca: createTestCa(),
      count: 300,
      seed: 11,
      attachmentSizes: [0, 500],
    });
    const documents: string[] = [];
    for (const message of corpus) {
      for (const entity of walk(parseEntity(message.raw, []))) {
        if (entity.contentType === 'application/xml')
          documents.push(decodedBody(message.raw, entity).toString('utf8'));
      }
    }
    expect(documents.length).toBeGreaterThan(200);
    for (const text of documents) {
      expect(readXml(text, new Set(DATICERT_ARRAYS))).toEqual(reference(text, DATICERT_ARRAYS));
      expect(readXml(text, new Set())).toEqual(reference(text, []));
    }
  });

  it('gives the same tree for attributes, entities, CDATA, comments, namespaces and mixed content', () => {
    const documents = [
      '<?xml version="1.0" encoding="UTF-8"?>\n<postacert tipo="avvenuta-consegna" errore="nessuno"><intestazione><mittente>a&amp;b@pec.test</mittente><destinatari tipo="esterno">x@y.it</destinatari></intestazione></postacert>',
      '<a><!-- a comment --><b x="1 &lt; 2" y=\'single\'>  text  </b><b/><b></b><c><![CDATA[ <raw> & ]]></c></a>',
      '<ev:Root xmlns:ev="urn:x" xmlns="urn:default"><ev:Id>1</ev:Id><ev:Id>2</ev:Id><Plain a="b"/></ev:Root>',
      '<a>before<b>inner</b>between<c/>after</a>',
      '<a>\r\n  <ricezione>one</ricezione>\r\n  <empty attr=""/>\r\n</a>\r\n',
      '<a><b><c><d>deep</d></c></b><b>shallow</b></a>',
      '<?xml-stylesheet href="x"?><a>pi before the root</a>',
    ];
    for (const text of documents) {
      expect(readXml(text, new Set(DATICERT_ARRAYS)), text).toEqual(
        reference(text, DATICERT_ARRAYS),
      );
    }
  });

  it('reads elements named like JavaScript internals as plain children', () => {
    const tree = readXml(
      '<a><__proto__><polluted>yes</polluted></__proto__><constructor>c</constructor></a>',
      new Set(),
    );
    const root = tree.a as Record<string, unknown>;
    expect(Object.keys(root)).toEqual(['__proto__', 'constructor']);
    expect(root.constructor).toBe('c');
    expect(Object.getOwnPropertyDescriptor(root, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses what is not well-formed, naming the fault', () => {
    const cases: Array<[string, RegExp]> = [
      ['<postacert tipo="x"><dati></postacert>', /closing tag mismatch/],
      ['<a><b></a>', /closing tag mismatch/],
      ['<a>', /unexpected end of file/],
      ['<a x=1/>', /missing attribute value quotes/],
      ['<a x="1" x="2"/>', /already defined/],
      ['<a/><b/>', /second root element <b>/],
      ['<a/>trailing', /non-whitespace outside of root node/],
      ['just text', /missing start tag|no root element/],
      ['', /missing start tag|no root element/],
      ['<a><!ELEMENT a ANY></a>', /declaration <!ELEMENT a ANY> is not allowed/],
      ['<a></b>', /closing tag mismatch/],
      ['</a>', /missing open tag/],
    ];
    for (const [text, fault] of cases) {
      expect(() => readXml(text, new Set()), text).toThrow(XmlSyntaxError);
      expect(() => readXml(text, new Set()), text).toThrow(fault);
    }
  });
});
