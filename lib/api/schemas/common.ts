/** Schemas shared by every resource: ids, pagination, the error body. Also the source of the OpenAPI document. */
import { z } from 'zod';

/**
 * Ids are Prisma cuid()s. Path ids that cannot be one are answered with 404 before any query
 * (a malformed id names no resource), never with a database error.
 */
export const Id = z
  .string()
  .regex(/^[a-z0-9]{20,40}$/, 'not a valid id')
  .meta({ description: 'resource id (cuid)', example: 'cm3x9v2k40000abcd1234efgh' });

export const Slug = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and dashes, not starting or ending with a dash');

/** For `.superRefine`: the value is refused with `problemOf`'s message, when it has one (null: valid). */
export const refusedWith =
  (problemOf: (value: string) => string | null) =>
  (value: string, ctx: z.RefinementCtx): void => {
    const problem = problemOf(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  };

export const Timestamp = z.iso.datetime({ offset: true }).meta({ description: 'ISO 8601 timestamp' });

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** `?cursor=&limit=`: keyset pagination, newest first. */
export const PageQuery = z.object({
  cursor: z.string().max(200).optional().meta({ description: 'opaque cursor from `nextCursor` of the previous page' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .meta({ description: `page size (1-${MAX_PAGE_SIZE})` }),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().meta({ description: 'pass as `cursor` for the next page; null on the last page' }),
  });
}

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'stable machine-readable code, e.g. `not_found`, `validation_failed`' }),
      message: z.string(),
      details: z.unknown().meta({ description: 'structured details (validation issues, diagnostics) or null' }),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.output<typeof ErrorBody>;
