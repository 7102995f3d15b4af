import { Column, getTableName, is, SQL, Subquery } from "drizzle-orm";

/** A decoder as drizzle keeps it on a column or an SQL expression. */
interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}

/** What drizzle's prepared query keeps for mapping its rows (`fields`, `joinsNotNullableMap`). */
export interface MappedQuery {
  fields?: { path: string[]; field: unknown }[] | undefined;
  joinsNotNullableMap?: Record<string, boolean> | undefined;
  customResultMapper?: ((rows: unknown[][]) => unknown) | undefined;
}

interface Slot {
  decoder: Decoder;
  /** The object path the value goes to (the last key holds it). */
  parents: string[];
  key: string;
  /** For a table's column nested one level (a join's table): its table's name, for the nullifying below. */
  joinTable: string | undefined;
}

/**
 * Maps a prepared query's result rows exactly as drizzle's `mapResultRow` does (a decoder per
 * value, nested objects by path, a left-joined table whose columns are all null becomes null),
 * with what `mapResultRow` works out again for every row of every execution — which decoder each
 * field has (up to three `is()` prototype walks per field), each path — worked out once. The hot
 * statements return wide rows (a session with its JSON columns, two message rows), so that
 * repeated work is most of their mapping.
 */
export function compileRowMapper(query: MappedQuery): ((rows: unknown[][]) => unknown[]) | null {
  const fields = query.fields;
  if (!fields || query.customResultMapper) return null;
  let slots: Slot[] | undefined;
  let joins: Record<string, boolean> | undefined;
  const compile = (): Slot[] => {
    // Read at first use: drizzle sets the join map on the query after building it.
    joins = query.joinsNotNullableMap;
    return fields.map(({ path, field }) => ({
      decoder: decoderOf(field),
      parents: path.slice(0, -1),
      key: path[path.length - 1] ?? "",
      joinTable: joins && is(field, Column) && path.length === 2 ? getTableName(field.table) : undefined,
    }));
  };
  return (rows) => {
    slots ??= compile();
    const out = new Array<unknown>(rows.length);
    for (let r = 0; r < rows.length; r++) out[r] = mapRow(slots, joins, rows[r] as unknown[]);
    return out;
  };
}

// `SQL.decoder` is internal in drizzle's types (set by `mapWith`); `mapResultRow` reads it so.
type WithDecoder = { decoder: Decoder };

function decoderOf(field: unknown): Decoder {
  if (is(field, Column)) return field as unknown as Decoder;
  if (is(field, SQL)) return (field as unknown as WithDecoder).decoder;
  if (is(field, Subquery)) return (field as unknown as { _: { sql: WithDecoder } })._.sql.decoder;
  return (field as { sql: WithDecoder }).sql.decoder;
}

function mapRow(slots: Slot[], joins: Record<string, boolean> | undefined, row: unknown[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const nullify: Record<string, string | false> | undefined = joins ? {} : undefined;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i] as Slot;
    let node = result;
    for (const p of slot.parents) {
      if (!(p in node)) node[p] = {};
      node = node[p] as Record<string, unknown>;
    }
    const raw = row[i];
    const value = raw === null ? null : slot.decoder.mapFromDriverValue(raw);
    node[slot.key] = value;
    if (nullify && slot.joinTable !== undefined) {
      const objectName = slot.parents[0] as string;
      if (!(objectName in nullify)) nullify[objectName] = value === null ? slot.joinTable : false;
      else if (typeof nullify[objectName] === "string" && nullify[objectName] !== slot.joinTable) nullify[objectName] = false;
    }
  }
  if (nullify && joins) {
    for (const objectName in nullify) {
      const tableName = nullify[objectName];
      if (typeof tableName === "string" && !joins[tableName]) result[objectName] = null;
    }
  }
  return result;
}
