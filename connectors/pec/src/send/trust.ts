/**
 * Which certificates a mail server's TLS must chain to. Node's `ca` option replaces its root
 * store rather than adding to it, so the body's own authorities (an internal relay's) go in
 * beside the system's: a provider on a public certificate must keep working.
 */
import { rootCertificates } from 'node:tls';

/** TLS options for a mail client; undefined (Node's defaults) when nothing is added. */
export function mailTlsOptions(
  trustedCa: readonly string[] | undefined,
): { ca: string[] } | undefined {
  if (!trustedCa || trustedCa.length === 0) return undefined;
  return { ca: [...rootCertificates, ...trustedCa] };
}

/**
 * What a person can do about a server certificate Node refused, or null when the failure is
 * not about the certificate: a name it was not issued for wants the name it was, any other
 * refusal (unknown authority, self-signed, expired) the body's authority in PECTRACK_MAIL_CA.
 */
export function certificateAdvice(
  failure: { code?: string; originalCode?: string; message?: string },
  where: string,
): string | null {
  const codes = `${failure.code ?? ''} ${failure.originalCode ?? ''}`;
  const text = failure.message ?? '';
  if (/ALTNAME/.test(codes) || /does not match certificate's altnames/i.test(text))
    return `the TLS certificate of ${where} is not issued for that name: connect to the host name the certificate names`;
  if (/CERT|UNABLE_TO_VERIFY|SELF_SIGNED/.test(codes) || /certificate|self.signed/i.test(text))
    return `the TLS certificate of ${where} is not trusted: if your own authority issued it, add that authority to PECTRACK_MAIL_CA`;
  return null;
}
