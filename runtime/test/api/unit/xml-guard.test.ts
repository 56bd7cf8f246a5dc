import { describe, expect, it } from 'vitest';
import { guardXml } from '../../../src/api/http/xml-guard.js';

describe('XML guard', () => {
  it('lets a plain BPMN document through', () => {
    expect(() => guardXml('\uFEFF  <?xml version="1.0"?><bpmn:definitions/>')).not.toThrow();
  });

  it.each([
    ['<!DOCTYPE x [<!ENTITY a "b">]><x/>', 'DOCTYPE'],
    ['<x><!-- --><!doctype y></x>', 'DOCTYPE'],
    ['<x><!ENTITY a SYSTEM "file:///etc/passwd"></x>', 'ENTITY'],
  ])('refuses %s', (xml, construct) => {
    expect(() => guardXml(xml, 'file a.bpmn')).toThrow(
      `file a.bpmn contains a ${construct} declaration`,
    );
  });

  it('names empty and non-XML documents', () => {
    expect(() => guardXml('   ')).toThrow('document is empty');
    expect(() => guardXml('hello')).toThrow("does not start with '<'");
  });
});
