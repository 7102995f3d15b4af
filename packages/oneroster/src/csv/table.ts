import { parse } from "csv-parse/sync";
import { RosterSourceError } from "../source.ts";

/** One data row of a CSV file, its fields looked up by header name. */
export interface CsvRow {
  /** 1-based line where the row starts (the header is line 1). */
  line: number;
  /** The field under `column` (header names match case-insensitively), "" when blank or no such column. */
  get(column: string): string;
  has(column: string): boolean;
}

export interface CsvTable {
  rows: CsvRow[];
  /** Rows that could not be split into fields: where they start and why. */
  broken: { line: number; sourcedId?: string; reason: string }[];
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Reads one bundle file: BOM, CRLF or LF, quoted fields with commas, quotes and line breaks in
 * them. A row with the wrong number of fields is reported, not thrown; a file whose header lacks
 * a `required` column fails the whole bundle, since none of its rows could be read.
 */
export function readCsvTable(file: string, bytes: Uint8Array, required: readonly string[]): CsvTable {
  let header: string[] | null = null;
  let columns = new Map<string, number>();
  const rows: CsvRow[] = [];
  const broken: CsvTable["broken"] = [];
  // csv-parse counts a CRLF inside quotes as two lines, so lines are counted here from the byte
  // offsets it reports at the end of each record.
  let cursor = 0;
  let line = 1;
  const startOfNextRecord = (): number => {
    while (cursor < bytes.length && (bytes[cursor] === LF || bytes[cursor] === CR)) {
      if (bytes[cursor] === LF) line += 1;
      cursor += 1;
    }
    return line;
  };
  const advanceTo = (end: number): void => {
    for (; cursor < end && cursor < bytes.length; cursor += 1) if (bytes[cursor] === LF) line += 1;
  };
  try {
    parse(bytes, {
      bom: true,
      record_delimiter: ["\r\n", "\n"],
      relax_column_count: true,
      // A stray quote inside an unquoted field is kept as text: stricter parsing loses the rows
      // after the bad one, which is worse for a district than one odd name.
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_record: (record: string[], info) => {
        const start = startOfNextRecord();
        advanceTo(info.bytes);
        if (record.length === 1 && record[0]?.trim() === "") return null;
        if (header === null) {
          header = record.map((name) => name.trim());
          columns = headerColumns(file, header, required);
          return null;
        }
        if (record.length !== header.length) {
          const sourcedId = record[columns.get("sourcedid") ?? -1]?.trim() || undefined;
          const reason = `${record.length} fields where the header has ${header.length}`;
          broken.push({ line: start, sourcedId, reason });
          return null;
        }
        rows.push(csvRow(start, record, columns));
        return null;
      },
      on_skip: (error) => {
        const start = startOfNextRecord();
        cursor = bytes.length;
        broken.push({
          line: start,
          reason: `unreadable from here to the end of the file (${error?.message ?? "malformed CSV"})`,
        });
        return undefined;
      },
    });
  } catch (error) {
    if (error instanceof RosterSourceError) throw error;
    throw new RosterSourceError("bad_bundle", `${file} is not readable CSV`, { cause: error });
  }
  if (header === null) throw new RosterSourceError("bad_bundle", `${file} has no header row`);
  return { rows, broken };
}

function headerColumns(file: string, header: string[], required: readonly string[]): Map<string, number> {
  const columns = new Map<string, number>();
  for (const [index, name] of header.entries()) {
    const key = name.toLowerCase();
    if (key === "") continue;
    if (columns.has(key)) throw new RosterSourceError("bad_bundle", `${file} has the column ${name} twice`);
    columns.set(key, index);
  }
  const missing = required.filter((name) => !columns.has(name.toLowerCase()));
  if (missing.length > 0) {
    throw new RosterSourceError("bad_bundle", `${file} lacks the column(s) ${missing.join(", ")}`);
  }
  return columns;
}

function csvRow(line: number, fields: string[], columns: Map<string, number>): CsvRow {
  return {
    line,
    get(column) {
      const index = columns.get(column.toLowerCase());
      return index === undefined ? "" : (fields[index] ?? "").trim();
    },
    has: (column) => columns.has(column.toLowerCase()),
  };
}
