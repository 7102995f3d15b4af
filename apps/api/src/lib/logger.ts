export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured JSON logger: one object per line, so log pipelines need no parsing rules. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(opts: { level?: LogLevel; sink?: (line: string) => void; base?: Record<string, unknown> } = {}): Logger {
  const min = LEVELS[opts.level ?? "info"];
  const sink = opts.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const base = opts.base ?? {};
  const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return;
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }, errorReplacer));
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    child: (fields) => createLogger({ level: opts.level ?? "info", sink, base: { ...base, ...fields } }),
  };
}

function errorReplacer(_key: string, value: unknown) {
  if (value instanceof Error) return describeError(value);
  return value;
}

/**
 * A failed query (drizzle's DrizzleQueryError) puts every bound parameter in its message and
 * stack — chat text, names, e-mails — so it is logged as its SQL text, the parameter count and
 * the database's error code and message, never the values. The driver's message can quote a
 * value too (`invalid input syntax for type uuid: "…"`), so any parameter appearing in it is masked.
 */
function describeError(err: Error): Record<string, unknown> {
  const failed = failedQuery(err);
  if (!failed) return { name: err.name, message: err.message, stack: err.stack };
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = cause && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
  return {
    name: err.name,
    message: `Failed query: ${failed.query}`,
    query: failed.query,
    paramCount: failed.params.length,
    ...(cause ? { cause: { name: cause.name, code, message: maskParams(cause.message, failed.params) } } : {}),
    // Only the frames: the first lines of a stack repeat the message with its parameters.
    stack: err.stack
      ?.split("\n")
      .filter((line) => /^\s+at /.test(line))
      .join("\n"),
  };
}

function failedQuery(err: Error): { query: string; params: unknown[] } | undefined {
  if ("query" in err && typeof err.query === "string" && "params" in err && Array.isArray(err.params)) {
    return { query: err.query, params: err.params };
  }
  return undefined;
}

function maskParams(message: string, params: unknown[]): string {
  let masked = message;
  for (const param of params) {
    const text = typeof param === "string" ? param : typeof param === "object" && param !== null ? JSON.stringify(param) : String(param);
    // Short values (ids, numbers, booleans) would mask ordinary words of the message.
    if (text.length >= 4) masked = masked.replaceAll(text, "[param]");
  }
  return masked;
}

/** A logger that records lines in memory; tests assert on what was logged. */
export function createMemoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug", sink: (line) => lines.push(JSON.parse(line)) });
  return Object.assign(logger, { lines });
}
