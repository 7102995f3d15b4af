import { is } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import type { Db, DbOrTx } from "./client.ts";

const byDb = new WeakMap<DbOrTx, Map<string, unknown>>();

/**
 * A statement built once per database and kept: `build` returns a drizzle `.prepare(name)` query
 * (values as `sql.placeholder`), so a hot path runs it with `execute(values)` instead of building
 * its SQL text on every call. Works on postgres-js (which also keeps the server-side statement
 * per connection) and PGlite. Inside a transaction the statement is built for that transaction
 * and not kept: a query prepared on the pool would run outside it.
 */
export function preparedOn<T>(db: DbOrTx, name: string, build: (db: Db) => T): T {
  // A transaction offers the same query builders as the database it runs on.
  if (is(db, PgTransaction)) return build(db as unknown as Db);
  let statements = byDb.get(db);
  if (!statements) {
    statements = new Map();
    byDb.set(db, statements);
  }
  let statement = statements.get(name) as T | undefined;
  if (statement === undefined) {
    statement = build(db);
    statements.set(name, statement);
  }
  return statement;
}
