import type { SigningIdentity, TestCa } from './ca.js';
import type { SignatureHash } from './smime.js';

/** A PEC provider as the testkit plays it: its name (gestore-emittente), domain and signing identity. */
export interface TestProvider {
  name: string;
  domain: string;
  identity: SigningIdentity;
  /** Digest the provider signs with; real providers still use sha1. */
  hash?: SignatureHash;
}

/** The address providers send envelopes and receipts from. */
export function providerAddress(provider: TestProvider): string {
  return `posta-certificata@${provider.domain}`;
}

export function createTestProvider(
  ca: TestCa,
  options: { name?: string; domain?: string; hash?: SignatureHash; keyType?: 'rsa' | 'ec' } = {},
): TestProvider {
  const domain = options.domain ?? 'pec.test';
  const name = options.name ?? `Gestore di test ${domain}`;
  const provider: TestProvider = {
    name,
    domain,
    identity: ca.issueProvider({
      address: `posta-certificata@${domain}`,
      commonName: name,
      ...(options.keyType && { keyType: options.keyType }),
    }),
  };
  if (options.hash) provider.hash = options.hash;
  return provider;
}
