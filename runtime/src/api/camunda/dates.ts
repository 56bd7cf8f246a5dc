/** Camunda's REST date format: `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, e.g. 2013-01-23T13:42:42.000+0200. */

export function toCamundaDate(iso: string | null | undefined): string | null {
  if (!iso) return null;
  return new Date(iso).toISOString().replace('Z', '+0000');
}

/** Accepts Camunda's format and plain ISO 8601; null when the text is not a date. */
export function parseCamundaDate(text: string): Date | null {
  const normalised = text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(normalised)) return null;
  const date = new Date(normalised);
  return Number.isNaN(date.getTime()) ? null : date;
}
