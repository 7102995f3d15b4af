/**
 * A loopback TCP proxy in front of Postgres that counts what the API sends, read from the wire
 * protocol (so nothing in the app is instrumented and nothing can be missed): round trips (each
 * `Sync` or simple `Query` makes the client wait for `ReadyForQuery`), statements executed
 * (`Execute` and simple `Query`) and, per statement text, how often it ran. Prepared statements
 * are followed from `Parse` (name → text) through `Bind` to `Execute`.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface StatementCount {
  text: string;
  count: number;
}

export interface PgCounts {
  roundTrips: number;
  statements: number;
  /** insert/update/delete statements (a `with … insert` counts as a write too). */
  writes: number;
  byText: Map<string, number>;
}

export interface PgCounter {
  port: number;
  /** Counts since the last reset. */
  snapshot(): PgCounts;
  reset(): void;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

/** Whitespace-collapsed statement text, as the report shows it. */
export function normaliseSql(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function isWrite(text: string): boolean {
  const l = text.toLowerCase();
  if (/^(insert|update|delete)\b/.test(l)) return true;
  return l.startsWith("with") && /\b(insert into|delete from)\b|\bupdate "/.test(l);
}

/** Starts the proxy on a free loopback port, forwarding to `target` (host:port of Postgres). */
export async function startPgCounter(target: { host: string; port: number }): Promise<PgCounter> {
  let counts: PgCounts = { roundTrips: 0, statements: 0, writes: 0, byText: new Map() };
  const sockets = new Set<Socket>();

  const countStatement = (text: string) => {
    counts.statements++;
    const t = normaliseSql(text);
    if (isWrite(t)) counts.writes++;
    counts.byText.set(t, (counts.byText.get(t) ?? 0) + 1);
  };

  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    sockets.add(client);
    sockets.add(upstream);
    // Startup (and an SSL/GSS request before it) carry no type byte.
    let startup = true;
    let buffered: Buffer = Buffer.alloc(0);
    const statementsByName = new Map<string, string>();
    let boundText = "";
    client.on("data", (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let at = 0;
      for (;;) {
        if (startup) {
          if (buffered.length - at < 8) break;
          const len = buffered.readInt32BE(at);
          if (buffered.length - at < len) break;
          const code = buffered.readInt32BE(at + 4);
          at += len;
          if (code !== SSL_REQUEST && code !== GSS_REQUEST) startup = false;
          continue;
        }
        if (buffered.length - at < 5) break;
        const type = String.fromCharCode(buffered[at] ?? 0);
        const len = buffered.readInt32BE(at + 1);
        if (buffered.length - at < 1 + len) break;
        const body = buffered.subarray(at + 5, at + 1 + len);
        at += 1 + len;
        if (type === "P") {
          const nameEnd = body.indexOf(0);
          const textEnd = body.indexOf(0, nameEnd + 1);
          statementsByName.set(body.toString("utf8", 0, nameEnd), body.toString("utf8", nameEnd + 1, textEnd));
        } else if (type === "B") {
          const portalEnd = body.indexOf(0);
          const nameEnd = body.indexOf(0, portalEnd + 1);
          boundText = statementsByName.get(body.toString("utf8", portalEnd + 1, nameEnd)) ?? "<unknown prepared statement>";
        } else if (type === "E") {
          countStatement(boundText);
        } else if (type === "Q") {
          countStatement(body.toString("utf8", 0, body.length - 1));
          counts.roundTrips++;
        } else if (type === "S") {
          counts.roundTrips++;
        }
      }
      buffered = at === buffered.length ? Buffer.alloc(0) : buffered.subarray(at);
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("pg counter: no port");
  return {
    port: address.port,
    snapshot: () => ({ ...counts, byText: new Map(counts.byText) }),
    reset() {
      counts = { roundTrips: 0, statements: 0, writes: 0, byText: new Map() };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
