import type { CertData } from '../daticert/types.js';
import type { DeliveryEvent } from '../events/types.js';
import { parseDaticert } from '../daticert/parse.js';
import { isPecTipo, pecEvent, type PecTipo } from '../events/pec.js';
import { decodedBody, parseEntity, type MimeEntity } from '../mime/entity.js';
import type { HeaderList } from '../mime/headers.js';
import { parseRemEvidence, type RemEvidence } from '../rem/evidence.js';
import { resolveTrustAnchors, type TrustAnchors } from '../signature/anchors.js';
import type { SignatureCheck } from '../signature/types.js';
import {
  openOpaqueSignature,
  opaqueContent,
  verifyDetachedSignature,
} from '../signature/verify.js';
import { findCertifiedMessage, findEmbeddedCertified } from './embedded.js';
import { clientMessageId, stripBrackets } from './identifiers.js';
import { withCarriedEntity } from './opaque.js';
import { readInnerMessage, type InnerReading } from './inner.js';
import { readInnerAttachment, readInnerOutline, type AttachmentContent } from './outline.js';
import { locateParts, type EnvelopeParts } from './structure.js';
import type { EnvelopeKind, ParseOptions, PecEnvelope, Profile } from './types.js';

const DEFAULT_MAX_DEPTH = 8;

interface ParseContext {
  anchors: TrustAnchors | null;
  /** When the signer's certificates must be valid. */
  receivedAt: Date;
  depthLeft: number;
  inner: 'full' | 'outline';
  /**
   * Set while reading what an opaque S/MIME message carries: the wrapper's signature check, and
   * whether its signed entity could be read.
   */
  opaque: { check: SignatureCheck; opened: boolean } | null;
}

/**
 * Raw bytes → PecEnvelope. Never throws and never rejects: what cannot be read becomes kind
 * `unparseable` or a line in `problems`, and everything that could be read is kept.
 */
export async function parsePec(raw: Buffer, options: ParseOptions = {}): Promise<PecEnvelope> {
  const problems: string[] = [];
  let anchors: TrustAnchors | null = null;
  try {
    anchors = resolveTrustAnchors(options.trustAnchors);
  } catch (error) {
    problems.push(`trust anchors unusable, signatures cannot be trusted: ${messageOf(error)}`);
  }
  const context: ParseContext = {
    anchors,
    receivedAt: options.receivedAt ?? new Date(),
    depthLeft: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    inner: options.inner ?? 'full',
    opaque: null,
  };
  return parseMessage(raw, context, problems);
}

async function parseMessage(
  raw: Buffer,
  context: ParseContext,
  problems: string[] = [],
): Promise<PecEnvelope> {
  const envelope: PecEnvelope = {
    kind: 'unparseable',
    profile: 'plain',
    providerId: null,
    originalMessageId: null,
    receiptType: null,
    certData: null,
    signature: { status: 'unsigned' },
    inner: null,
    event: null,
    nested: null,
    problems,
  };
  try {
    return await fill(envelope, raw, { ...context, opaque: null });
  } catch (error) {
    problems.push(`parser failure: ${messageOf(error)}`);
    envelope.kind = 'unparseable';
    return envelope;
  }
}

async function fill(
  envelope: PecEnvelope,
  raw: Buffer,
  context: ParseContext,
): Promise<PecEnvelope> {
  const structure = readStructure(raw, envelope.problems);
  if (!structure) return envelope;
  const { root, parts, profile, listWrapped } = structure;
  const { headers } = root;
  envelope.providerId = stripBrackets(headers.get('message-id'));
  if (listWrapped) return unwrap(envelope, listWrapped, context);
  if (parts.opaqueSigned && !context.opaque) return fillOpaque(envelope, raw, root, context);
  envelope.profile = profile;
  if (profile === 'PEC-2005') return fillPec(envelope, raw, headers, parts, context);
  if (profile === 'REM') return fillRem(envelope, raw, headers, parts, context);
  envelope.kind = 'plain';
  return fillContent(envelope, raw, parts, context, raw);
}

interface Structure {
  root: MimeEntity;
  parts: EnvelopeParts;
  profile: Profile;
  /** The envelope a mailing list relayed, when this plain message is that relay. */
  listWrapped: Buffer | null;
}

/** The MIME structure and profile of a message; null, saying why in `problems`, when it has no header. */
function readStructure(raw: Buffer, problems: string[]): Structure | null {
  if (raw.length === 0) {
    problems.push('message is empty');
    return null;
  }
  const root = parseEntity(raw, problems);
  if (root.headers.size === 0) {
    problems.push('message has no header fields');
    return null;
  }
  const parts = locateParts(root);
  const profile = detectProfile(root.headers, parts);
  const listWrapped =
    profile === 'plain' && root.headers.has('list-id') ? findEmbeddedCertified(raw, root) : null;
  return { root, parts, profile, listWrapped };
}

/**
 * A mailing list (RFC 2919 List-Id) relayed the envelope as an attachment: the envelope is what
 * counts. Plain mail from a person that attaches an envelope stays plain, with the envelope nested.
 */
async function unwrap(
  envelope: PecEnvelope,
  wrapped: Buffer,
  context: ParseContext,
): Promise<PecEnvelope> {
  const inner = await parseMessage(wrapped, context);
  return { ...inner, problems: [...envelope.problems, ...inner.problems] };
}

/**
 * Opaque S/MIME: the signature is checked over the entity the SignedData carries, and that entity
 * is read as the message's content. One that cannot be opened leaves the message as its headers
 * say, with the reason as its signature's.
 */
async function fillOpaque(
  envelope: PecEnvelope,
  raw: Buffer,
  root: MimeEntity,
  context: ParseContext,
): Promise<PecEnvelope> {
  const { check, content } = await openOpaqueSignature(
    decodedBody(raw, root),
    context.anchors,
    context.receivedAt,
  );
  if (!content) return fill(envelope, raw, { ...context, opaque: { check, opened: false } });
  const carried = withCarriedEntity(raw, root, content);
  return fill(envelope, carried, { ...context, opaque: { check, opened: true } });
}

/**
 * What the signed content carries decides: REM sections (found inside the signed content when
 * there is one), or a signed daticert.xml. Header fields are outside the signature and anyone on
 * the way may add one, so a bare `REM-*` field counts only when nothing signed and no PEC field
 * says otherwise: one added to a PEC receipt must not cost it its certified event.
 */
function detectProfile(headers: HeaderList, parts: EnvelopeParts): Profile {
  if (parts.remSections.length > 0) return 'REM';
  if (parts.signed && parts.daticert.length > 0) return 'PEC-2005';
  if (headers.has('x-trasporto') || headers.has('x-ricevuta')) return 'PEC-2005';
  return headers.fields.some((field) => field.name.startsWith('rem-')) ? 'REM' : 'plain';
}

async function fillPec(
  envelope: PecEnvelope,
  raw: Buffer,
  headers: HeaderList,
  parts: EnvelopeParts,
  context: ParseContext,
): Promise<PecEnvelope> {
  const { problems } = envelope;
  if (parts.daticert.length > 1)
    problems.push(`${parts.daticert.length} daticert.xml parts: the first one is used`);
  const daticert = parts.daticert[0];
  const cert = daticert ? parseDaticert(decodedBody(raw, daticert), problems) : null;
  envelope.certData = cert;
  const kind = structureUnreadable(parts) ? 'unparseable' : pecKind(headers, cert, parts, problems);
  envelope.kind = kind;
  envelope.providerId =
    kind === 'posta-certificata' || kind === 'anomalia'
      ? (cert?.identificativo ?? envelope.providerId)
      : envelope.providerId;
  envelope.originalMessageId = clientMessageId(
    { name: 'X-Riferimento-Message-ID', value: headers.get('x-riferimento-message-id') },
    { name: 'daticert msgid', value: cert?.msgid },
    problems,
  );
  envelope.receiptType = cert?.ricevuta ?? receiptTypeHeader(headers, kind);
  envelope.event = certifiedEvent(kind, cert, problems);
  if (!parts.signed && !context.opaque?.opened)
    problems.push(unsignedProblem('certified message', parts));
  const original = originalPartOf('PEC-2005', parts);
  return fillContent(envelope, raw, parts, context, original && decodedBody(raw, original));
}

async function fillRem(
  envelope: PecEnvelope,
  raw: Buffer,
  headers: HeaderList,
  parts: EnvelopeParts,
  context: ParseContext,
): Promise<PecEnvelope> {
  const { problems } = envelope;
  const evidence = remEvidenceOf(raw, parts, problems);
  envelope.kind = structureUnreadable(parts)
    ? 'unparseable'
    : evidence?.event
      ? (evidence.type as EnvelopeKind)
      : 'rem-message';
  envelope.event = evidence?.event ?? null;
  envelope.originalMessageId = clientMessageId(
    { name: 'REM-UAMessageIdentifier', value: headers.get('rem-uamessageidentifier') },
    { name: 'evidence UAMessageIdentifier', value: evidence?.uaMessageIdentifier },
    problems,
  );
  const original = originalPartOf('REM', parts);
  if (!parts.signed && !context.opaque?.opened)
    problems.push(unsignedProblem('REM message', parts));
  return fillContent(envelope, raw, parts, context, original && decodedBody(raw, original));
}

/** The evidence a REM message carries: its first evidence section, as PEC reads its first daticert.xml. */
function remEvidenceOf(raw: Buffer, parts: EnvelopeParts, problems: string[]): RemEvidence | null {
  const sections = parts.remSections.filter((entity) => remSection(entity).includes('evidence'));
  const [first] = sections;
  if (!first) {
    problems.push('REM message carries no evidence section');
    return null;
  }
  if (sections.length > 1)
    problems.push(`${sections.length} REM evidence sections: the first one is used`);
  return parseRemEvidence(decodedBody(raw, first), problems);
}

const remSection = (entity: MimeEntity) =>
  entity.headers.get('rem-section-type')?.toLowerCase() ?? '';

/** Where a certified message carries what the sender wrote: postacert.eml, or a REM original section. */
function originalPartOf(profile: 'PEC-2005' | 'REM', parts: EnvelopeParts): MimeEntity | null {
  if (profile === 'PEC-2005') return parts.postacert;
  return (
    parts.remSections.find((entity) => remSection(entity).includes('original')) ?? parts.postacert
  );
}

/**
 * Attachment `index` of the message the sender wrote, decoded, counted as an outline parse lists
 * `inner.attachments` (its SHA-256 is the one listed); null when there is no such attachment.
 */
export function originalAttachment(raw: Buffer, index: number): AttachmentContent | null {
  const original = originalMessageOf(raw);
  return original && readInnerAttachment(original, index);
}

/**
 * The bytes of the message the sender wrote, found as parsePec finds them (postacert.eml, the
 * REM original, the envelope a mailing list relayed, or a plain message itself); null when a
 * certified message carries none.
 */
export function originalMessageOf(raw: Buffer, depthLeft = DEFAULT_MAX_DEPTH): Buffer | null {
  const structure = readStructure(raw, []);
  if (!structure) return null;
  const { root, parts, profile, listWrapped } = structure;
  if (listWrapped && depthLeft > 0) return originalMessageOf(listWrapped, depthLeft - 1);
  if (parts.opaqueSigned) {
    const carried = opaqueContent(decodedBody(raw, root));
    return carried && depthLeft > 0
      ? originalMessageOf(withCarriedEntity(raw, root, carried), depthLeft - 1)
      : null;
  }
  if (profile === 'plain') return raw;
  const original = originalPartOf(profile, parts);
  return original && decodedBody(raw, original);
}

async function fillContent(
  envelope: PecEnvelope,
  raw: Buffer,
  parts: EnvelopeParts,
  context: ParseContext,
  original: Buffer | null,
): Promise<PecEnvelope> {
  const [signature, reading] = await Promise.all([
    checkSignature(raw, parts, context),
    original ? readInner(original, context, envelope.problems) : Promise.resolve(null),
  ]);
  envelope.signature = signature;
  envelope.inner = reading?.inner ?? null;
  if (original && reading)
    envelope.nested = await nestedEnvelope(
      original,
      reading.attachesMessages,
      context,
      envelope.problems,
    );
  return envelope;
}

function readInner(
  original: Buffer,
  context: ParseContext,
  problems: string[],
): Promise<InnerReading> | InnerReading {
  return context.inner === 'outline'
    ? readInnerOutline(original, problems)
    : readInnerMessage(original, problems);
}

/**
 * A receipt's event comes only from the signed daticert that says what it is. The headers are
 * outside the signature: an anomaly envelope (signed, but wrapping anyone's mail and carrying no
 * daticert) relabelled `X-Ricevuta: avvenuta-consegna` and pointed at one of our messages would
 * otherwise be a certified delivery. The kind the headers name is kept, for a person to see.
 */
function certifiedEvent(
  kind: EnvelopeKind,
  cert: CertData | null,
  problems: string[],
): DeliveryEvent | null {
  if (kind === 'anomalia') return pecEvent(kind, null);
  if (!isPecTipo(kind)) return null;
  const event = pecEvent(kind, cert);
  if (event && cert?.tipo !== kind) {
    problems.push(
      `${kind} is named by the headers only: no signed daticert says so, so it moves no delivery state`,
    );
    return null;
  }
  return event;
}

/** A multipart whose parts cannot be found (no boundary, boundary never present): nothing certified can be read. */
function structureUnreadable(parts: EnvelopeParts): boolean {
  return parts.content.contentType.startsWith('multipart/') && parts.content.children.length === 0;
}

/** daticert is signed and wins over headers, which anyone on the way may add or change. */
function pecKind(
  headers: HeaderList,
  cert: CertData | null,
  parts: EnvelopeParts,
  problems: string[],
): EnvelopeKind {
  const headerKind = kindFromHeaders(headers, problems);
  if (cert?.tipo) {
    if (isPecTipo(cert.tipo)) {
      if (headerKind && headerKind !== cert.tipo)
        problems.push(
          `headers say ${headerKind} but daticert tipo is ${cert.tipo}: daticert is used`,
        );
      return cert.tipo;
    }
    problems.push(`daticert tipo "${cert.tipo}" is not a known kind`);
  }
  if (headerKind !== 'anomalia' && parts.daticert.length === 0)
    problems.push('daticert.xml is missing');
  if (headerKind === 'anomalia' && !parts.postacert)
    problems.push('anomaly envelope has no postacert.eml');
  return headerKind ?? 'unparseable';
}

function kindFromHeaders(headers: HeaderList, problems: string[]): PecTipo | 'anomalia' | null {
  const transport = headers.get('x-trasporto')?.trim().toLowerCase();
  const receipt = headers.get('x-ricevuta')?.trim().toLowerCase();
  if (transport === 'errore') return 'anomalia';
  if (transport === 'posta-certificata') return 'posta-certificata';
  if (receipt && isPecTipo(receipt)) return receipt;
  if (transport || receipt) problems.push(`unknown PEC header value "${transport ?? receipt}"`);
  return null;
}

function receiptTypeHeader(headers: HeaderList, kind: EnvelopeKind): PecEnvelope['receiptType'] {
  const value = headers.get('x-tiporicevuta')?.trim().toLowerCase();
  if (value === 'completa' || value === 'breve' || value === 'sintetica') return value;
  return kind === 'avvenuta-consegna' ? 'completa' : null;
}

function unsignedProblem(what: string, parts: EnvelopeParts): string {
  return parts.opaqueSigned
    ? `${what} is opaque S/MIME (application/pkcs7-mime) whose signed content (certification data, original message) cannot be read`
    : `${what} is not signed`;
}

async function checkSignature(
  raw: Buffer,
  parts: EnvelopeParts,
  context: ParseContext,
): Promise<SignatureCheck> {
  if (context.opaque) return context.opaque.check;
  if (!parts.signed) return { status: 'unsigned' };
  if (parts.signed.children.length === 0)
    return { status: 'invalid', reason: 'multipart/signed parts cannot be read' };
  if (!parts.signature)
    return { status: 'invalid', reason: 'multipart/signed has no signature part' };
  const signedBytes = raw.subarray(parts.content.start, parts.content.end);
  return verifyDetachedSignature(
    signedBytes,
    decodedBody(raw, parts.signature),
    context.anchors,
    context.receivedAt,
  );
}

async function nestedEnvelope(
  original: Buffer,
  attachesMessages: boolean,
  context: ParseContext,
  problems: string[],
): Promise<PecEnvelope | null> {
  const certified = findCertifiedMessage(original, attachesMessages);
  if (!certified) return null;
  if (context.depthLeft <= 0) {
    problems.push('forwarded certified message nested deeper than maxDepth: not parsed');
    return null;
  }
  return parseMessage(certified, { ...context, depthLeft: context.depthLeft - 1 });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
