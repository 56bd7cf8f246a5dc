/** `<id@host>` → `id@host`: provider ids are stored and compared without angle brackets. */
export function stripBrackets(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  if (!trimmed) return null;
  const inner =
    trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1).trim() : trimmed;
  return inner || null;
}

/** `id@host` → `<id@host>`: a Message-ID as it appears in headers, the form receipts point back with. */
export function withBrackets(value: string | null | undefined): string | null {
  const bare = stripBrackets(value);
  return bare ? `<${bare}>` : null;
}

/**
 * The first msg-id in a header value, without angle brackets: `<a@b> (Outlook)` → `a@b`. RFC 5322
 * lets comments and folding surround it; a value with no angle brackets gives its first word.
 */
export function messageIdOf(value: string | null | undefined): string | null {
  if (!value) return null;
  const text = withoutComments(value).trim();
  const bracketed = /<([^<>]*)>/.exec(text);
  const id = bracketed ? bracketed[1] : text.split(/\s+/)[0];
  return id?.trim() || null;
}

/** Drops `(comments)`, nested and with `\)` escapes, outside `<…>`; a `(` inside an id is kept. */
function withoutComments(value: string): string {
  if (!value.includes('(')) return value;
  let kept = '';
  let depth = 0;
  let inId = false;
  for (let index = 0; index < value.length; index += 1) {
    const char = value[index]!;
    if (depth > 0) {
      if (char === '\\') index += 1;
      else if (char === '(') depth += 1;
      else if (char === ')') depth -= 1;
      continue;
    }
    if (char === '(' && !inId) {
      depth = 1;
      continue;
    }
    if (char === '<') inId = true;
    else if (char === '>') inId = false;
    kept += char;
  }
  return kept;
}

export interface IdSource {
  /** How a problem line names it: `X-Riferimento-Message-ID`, `daticert msgid`. */
  name: string;
  value: string | null | undefined;
}

/**
 * The sender client's Message-ID, with angle brackets, from a header and from the signed document
 * that repeats it. The signed one wins, since anyone on the way may add or change a header, and a
 * disagreement is reported with both values; an empty or missing one gives way to the other.
 */
export function clientMessageId(
  header: IdSource,
  signed: IdSource,
  problems: string[],
): string | null {
  const fromHeader = messageIdOf(header.value);
  const fromSigned = messageIdOf(signed.value);
  if (fromHeader && fromSigned && fromHeader !== fromSigned)
    problems.push(
      `${header.name} <${fromHeader}> differs from the signed ${signed.name} <${fromSigned}>: ${signed.name} is used`,
    );
  return withBrackets(fromSigned ?? fromHeader);
}
