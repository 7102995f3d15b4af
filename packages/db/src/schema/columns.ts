import { customType, timestamp, uuid } from "drizzle-orm/pg-core";

/** Postgres `ltree` (extension created by the first, custom migration). Labels are group ids with `-` → `_`. */
export const ltree = customType<{ data: string; driverData: string }>({
  dataType: () => "ltree",
});

export const id = () => uuid("id").primaryKey().defaultRandom();

export const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

export const timestamps = () => ({
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at", { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
});

export const tstz = (name: string) => timestamp(name, { withTimezone: true });
