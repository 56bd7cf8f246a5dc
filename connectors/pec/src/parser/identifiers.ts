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
