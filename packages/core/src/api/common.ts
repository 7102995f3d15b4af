import { z } from "zod";
import { inInstantRange } from "../input.ts";

export const uuidSchema = z.uuid();
export const idParamSchema = z.object({ id: z.uuid() });

/** Cursor pagination: `?limit=&cursor=`; the response carries `nextCursor` (null at the end). */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(500).optional(),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const isoDateTime = z.iso.datetime({ offset: true });

const inRange = (text: string) => inInstantRange(Date.parse(text));

/**
 * A timestamp a client sends: ISO 8601 with an offset, a real calendar instant (zod checks the
 * calendar) between 1970 and 2999 UTC, so it always fits a `timestamptz` and a JS Date.
 */
export const instantInput = isoDateTime.refine(inRange, "Must be between 1970-01-01 and 2999-12-31 (UTC)");
/** A calendar date a client sends (`YYYY-MM-DD`, UTC), in the same range as `instantInput`. */
export const dateInput = z.iso.date().refine(inRange, "Must be between 1970-01-01 and 2999-12-31");
