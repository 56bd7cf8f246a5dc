export type SignatureStatus = 'valid' | 'intact-untrusted' | 'invalid' | 'unsigned';

export interface SignerIdentity {
  subject: string;
  /** The provider address from the certificate's SAN rfc822Name. */
  email: string | null;
  issuer: string;
  serialNumber: string;
}

export interface SignatureCheck {
  status: SignatureStatus;
  signer?: SignerIdentity;
  /** Digest algorithm of the signer: `sha1`, `sha256`... */
  algorithm?: string;
  reason?: string;
}
