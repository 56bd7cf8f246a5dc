import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { readTlv } from './der.js';
import { derTime } from './signer-info.js';

const der = (value: asn1js.BaseBlock) => new Uint8Array(value.toBER());
const time = (tag: number, text: string) =>
  new Uint8Array([tag, text.length, ...Buffer.from(text, 'latin1')]);
const read = (bytes: Uint8Array) => derTime(bytes, readTlv(bytes, 0))?.toISOString();

describe('derTime (signing time)', () => {
  it('reads what asn1js writes, UTCTime and GeneralizedTime alike', () => {
    const when = new Date(Date.UTC(2026, 10, 27, 9, 30, 15));
    expect(read(der(new asn1js.UTCTime({ valueDate: when })))).toBe(when.toISOString());
    expect(read(der(new asn1js.GeneralizedTime({ valueDate: when })))).toBe(when.toISOString());
  });

  it('maps two-digit years to 1950-2049 and applies offsets and fractions', () => {
    expect(read(time(0x17, '490101000000Z'))).toBe('2049-01-01T00:00:00.000Z');
    expect(read(time(0x17, '500101000000Z'))).toBe('1950-01-01T00:00:00.000Z');
    expect(read(time(0x17, '2611270930+0100'))).toBe('2026-11-27T08:30:00.000Z');
    expect(read(time(0x18, '20261127093015.25Z'))).toBe('2026-11-27T09:30:15.250Z');
  });

  it('gives nothing for what is not a time', () => {
    expect(read(time(0x17, '20261127093015Z'))).toBeUndefined();
    expect(read(time(0x18, '261127093015Z'))).toBeUndefined();
    expect(read(time(0x17, 'yesterday'))).toBeUndefined();
    expect(read(der(new asn1js.Integer({ value: 5 })))).toBeUndefined();
  });
});
