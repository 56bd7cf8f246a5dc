import { describe, expect, it } from 'vitest';
import { createAuthenticator, type Account } from '../../../src/auth/authenticator.js';
import { parseAuthorization } from '../../../src/auth/credentials.js';
import { hashPassword, verifyPassword } from '../../../src/auth/passwords.js';
import { can, requirePermission } from '../../../src/auth/permissions.js';
import { generateToken, hashToken } from '../../../src/auth/tokens.js';
import { VerifiedPasswords } from '../../../src/auth/verified-passwords.js';

const actor = (roles: string[]) => ({ tenantId: 't', userId: 'u', username: 'n', roles });

describe('passwords', () => {
  it('hashes with a fresh salt and verifies only the right password', async () => {
    const first = await hashPassword('segreto');
    const second = await hashPassword('segreto');
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(first).not.toBe(second);
    expect(await verifyPassword('segreto', first)).toBe(true);
    expect(await verifyPassword('Segreto', first)).toBe(false);
    expect(await verifyPassword('segreto', 'plain-text-in-db')).toBe(false);
  });

  it('remembers a verified password only for the same stored hash and only for its lifetime', async () => {
    const cache = new VerifiedPasswords(1000);
    const stored = await hashPassword('pw');
    expect(await cache.verify('pw', stored, 0)).toBe(true);
    expect(await cache.verify('wrong', stored, 10)).toBe(false);
    const changed = await hashPassword('pw2');
    expect(await cache.verify('pw', changed, 20)).toBe(false);
    expect(await cache.verify('pw', stored, 5000)).toBe(true);
  });
});

describe('tokens and credentials', () => {
  it('generates prefixed random tokens and keeps only their SHA-256', () => {
    const a = generateToken();
    const b = generateToken();
    expect(a.token).toMatch(/^pct_/);
    expect(a.token).not.toBe(b.token);
    expect(a.tokenHash).toBe(hashToken(a.token));
    expect(a.tokenHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('parses Basic and Bearer headers, and nothing else', () => {
    const encoded = Buffer.from('anna:pa:ss').toString('base64');
    expect(parseAuthorization(`Basic ${encoded}`)).toEqual({
      kind: 'basic',
      username: 'anna',
      password: 'pa:ss',
    });
    expect(parseAuthorization('bearer pct_abc')).toEqual({ kind: 'bearer', token: 'pct_abc' });
    expect(parseAuthorization(undefined)).toBeNull();
    expect(parseAuthorization('Basic')).toBeNull();
    expect(parseAuthorization(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeNull();
    expect(parseAuthorization('Negotiate abc')).toBeNull();
  });

  it('authenticates against an account lookup', async () => {
    const account: Account = {
      tenantId: 'comune-x',
      userId: 'u1',
      username: 'anna',
      roles: ['clerk'],
      passwordHash: await hashPassword('pw'),
      active: true,
    };
    const { token, tokenHash } = generateToken();
    const authenticate = createAuthenticator({
      byUsername: async (name) => (name === 'anna' ? account : null),
      byTokenHash: async (hash) => (hash === tokenHash ? account : null),
    });
    const expected = { tenantId: 'comune-x', userId: 'u1', username: 'anna', roles: ['clerk'] };
    expect(await authenticate(`Basic ${Buffer.from('anna:pw').toString('base64')}`)).toEqual(
      expected,
    );
    expect(await authenticate(`Bearer ${token}`)).toEqual(expected);
    await expect(
      authenticate(`Basic ${Buffer.from('anna:nope').toString('base64')}`),
    ).rejects.toMatchObject({ status: 401 });
    await expect(
      authenticate(`Basic ${Buffer.from('ghost:pw').toString('base64')}`),
    ).rejects.toMatchObject({ status: 401 });
    await expect(authenticate(undefined)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});

describe('permissions', () => {
  it('grants by role', () => {
    expect(can(actor(['admin']), 'definitions:deploy')).toBe(true);
    expect(can(actor(['analyst']), 'definitions:deploy')).toBe(true);
    expect(can(actor(['clerk']), 'definitions:deploy')).toBe(false);
    expect(can(actor(['clerk']), 'tasks:work')).toBe(true);
    expect(can(actor(['clerk']), 'tasks:assign')).toBe(false);
    expect(can(actor(['supervisor']), 'tasks:assign')).toBe(true);
    expect(can(actor(['analyst']), 'tasks:work')).toBe(false);
    expect(can(actor(['clerk', 'analyst']), 'definitions:deploy')).toBe(true);
    expect(can(actor(['root']), 'definitions:read')).toBe(false);
    expect(() => requirePermission(actor([]), 'tasks:read')).toThrow(
      'missing permission tasks:read',
    );
  });
});
