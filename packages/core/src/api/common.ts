import { z } from "zod";

export const uuidSchema = z.uuid();
export const idParamSchema = z.object({ id: z.uuid() });

/** Cursor pagination: `?limit=&cursor=`; the response carries `nextCursor` (null at the end). */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(500).optional(),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const isoDateTime = z.iso.datetime({ offset: true });
