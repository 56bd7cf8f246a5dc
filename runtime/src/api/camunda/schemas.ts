/** zod schemas of the Camunda request bodies and queries this subset accepts. */
import { z } from 'zod';
import { queryInteger } from '../query-integer.js';

export const CamundaVariables = z
  .record(
    z.string(),
    z.object({
      value: z.unknown().optional(),
      type: z.string().nullable().optional(),
      valueInfo: z.record(z.string(), z.unknown()).nullable().optional(),
    }),
  )
  .nullable()
  .optional();

export const Paging = {
  firstResult: queryInteger(z.number().int().min(0).optional()),
  maxResults: queryInteger(z.number().int().min(0).optional()),
};

export function page<T>(items: T[], paging: { firstResult?: number; maxResults?: number }): T[] {
  const first = paging.firstResult ?? 0;
  return items.slice(
    first,
    paging.maxResults === undefined ? undefined : first + paging.maxResults,
  );
}

export const Id = z.object({ id: z.string().min(1) });
export const Key = z.object({ key: z.string().min(1) });
export const CamundaBoolean = z.enum(['true', 'false']).transform((value) => value === 'true');

/** Documentation-only shape of a Camunda object answer (Camunda's own reference defines it fully). */
export const CamundaObject = z.record(z.string(), z.unknown());
