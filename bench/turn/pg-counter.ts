/**
 * A counter in front of Postgres that reads the wire protocol both ways (so nothing in the app is
 * instrumented and nothing can be missed): round trips (each `Sync` or simple `Query` makes the
 * client wait for `ReadyForQuery`), statements executed (`Execute` and simple `Query`), and, per
 * statement text, how often it ran and how many rows (`DataRow`s) Postgres sent back for it.
 * Prepared statements are followed from `Parse` (name → text) through `Bind` to `Execute`; answers
 * are matched to statements in order, as the protocol sends them. The TCP proxy itself is the bus
 * tests' cuttable proxy, tapped.
 */
import { startCuttableProxy } from "../../packages/bus/test/support.ts";

export interface PgCounts {
  roundTrips: number;
  statements: number;
  /** insert/update/delete statements (a `with … insert` counts as a write too). */
  writes: number;
  /** Rows returned to the app, all statements. */
  rows: number;
  /**
   * Chunks the proxy read from the app: about the app's socket writes to Postgres (the kernel may
   * merge writes the proxy had not read yet, so a floor when the proxy lags).
   */
  packets: number;
  byText: Map<string, number>;
  rowsByText: Map<string, number>;
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
/** Marks the end of a batch (a `Sync` or a simple `Query`): `ReadyForQuery` answers it. */
const BATCH_END = Symbol("batch end");

/** Whitespace-collapsed statement text, as the report shows it. */
export function normaliseSql(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function isWrite(text: string): boolean {
  const l = text.toLowerCase();
  if (/^(insert|update|delete)\b/.test(l)) return true;
  return l.startsWith("with") && /\b(insert into|delete from)\b|\bupdate "/.test(l);
}

/**
 * Splits a byte stream into protocol messages (type byte + length + body). The client's first
 * messages (startup, and an SSL/GSS request before it) carry no type byte; the server answers an
 * SSL/GSS request with one bare byte.
 */
function framer(onMessage: (type: string, body: Buffer) => void, opts: { untypedStartup: boolean }) {
  let buffered: Buffer = Buffer.alloc(0);
  let startup = opts.untypedStartup;
  let bareBytes = 0;
  const feed = (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    let at = 0;
    for (;;) {
      if (bareBytes > 0 && buffered.length > at) {
        bareBytes--;
        at++;
        continue;
      }
      if (startup) {
        if (buffered.length - at < 8) break;
        const len = buffered.readInt32BE(at);
        if (buffered.length - at < len) break;
        const code = buffered.readInt32BE(at + 4);
        at += len;
        if (code !== SSL_REQUEST && code !== GSS_REQUEST) startup = false;
        else onMessage("ssl", Buffer.alloc(0));
        continue;
      }
      if (buffered.length - at < 5) break;
      const type = String.fromCharCode(buffered[at] ?? 0);
      const len = buffered.readInt32BE(at + 1);
      if (buffered.length - at < 1 + len) break;
      onMessage(type, buffered.subarray(at + 5, at + 1 + len));
      at += 1 + len;
    }
    buffered = at === buffered.length ? Buffer.alloc(0) : buffered.subarray(at);
  };
  return { feed, expectBareByte: () => bareBytes++ };
}

/** Starts the counter on a free loopback port, forwarding to `target` (host:port of Postgres). */
export async function startPgCounter(target: { host: string; port: number }): Promise<PgCounter> {
  const empty = (): PgCounts => ({ roundTrips: 0, statements: 0, writes: 0, rows: 0, packets: 0, byText: new Map(), rowsByText: new Map() });
  let counts = empty();

  const tap = () => {
    const statementsByName = new Map<string, string>();
    let boundText = "";
    // Statements awaiting their answer, in the order the server will answer them.
    const pending: (string | typeof BATCH_END)[] = [];
    const executed = (text: string) => {
      const t = normaliseSql(text);
      counts.statements++;
      if (isWrite(t)) counts.writes++;
      counts.byText.set(t, (counts.byText.get(t) ?? 0) + 1);
      pending.push(t);
    };
    const answered = () => {
      if (typeof pending[0] === "string") pending.shift();
    };
    const server = framer(
      (type) => {
        if (type === "D") {
          const head = pending[0];
          counts.rows++;
          if (typeof head === "string") counts.rowsByText.set(head, (counts.rowsByText.get(head) ?? 0) + 1);
        } else if (type === "C" || type === "I" || type === "s" || type === "E") answered();
        else if (type === "Z") {
          // After an error the server skips the rest of the batch: drop what it will never answer.
          const end = pending.indexOf(BATCH_END);
          pending.splice(0, end + 1);
        }
      },
      { untypedStartup: false },
    );
    const client = framer(
      (type, body) => {
        if (type === "ssl") server.expectBareByte();
        else if (type === "P") {
          const nameEnd = body.indexOf(0);
          const textEnd = body.indexOf(0, nameEnd + 1);
          statementsByName.set(body.toString("utf8", 0, nameEnd), body.toString("utf8", nameEnd + 1, textEnd));
        } else if (type === "B") {
          const portalEnd = body.indexOf(0);
          const nameEnd = body.indexOf(0, portalEnd + 1);
          boundText = statementsByName.get(body.toString("utf8", portalEnd + 1, nameEnd)) ?? "<unknown prepared statement>";
        } else if (type === "E") executed(boundText);
        else if (type === "Q") {
          executed(body.toString("utf8", 0, body.length - 1));
          pending.push(BATCH_END);
          counts.roundTrips++;
        } else if (type === "S") {
          pending.push(BATCH_END);
          counts.roundTrips++;
        }
      },
      { untypedStartup: true },
    );
    return {
      fromClient: (chunk: Buffer) => {
        counts.packets++;
        client.feed(chunk);
      },
      fromServer: server.feed,
    };
  };

  const proxy = await startCuttableProxy(`postgres://${target.host}:${target.port}`, { tap });
  return {
    port: proxy.port,
    snapshot: () => ({ ...counts, byText: new Map(counts.byText), rowsByText: new Map(counts.rowsByText) }),
    reset() {
      counts = empty();
    },
    close: () => proxy.close(),
  };
}
