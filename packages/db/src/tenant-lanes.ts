import postgres, { type Options, type PostgresType, type Sql, type TransactionSql } from "postgres";
import { heldWeight, JOIN_DEPTH, type LaneLoad, leastLoaded } from "./lane-load.ts";
import { laneReset } from "./lane-reset.ts";

/**
 * The tenant pool: `size` connections, each its own postgres-js client of one connection (a
 * "lane"), so this module decides which connection a statement goes to. A lane remembers the
 * reach it last *sent* (a session-level `set_config`, which the connection keeps): a statement
 * whose reach differs is preceded on that lane by the `set_config`, written in the same socket
 * write; a statement whose reach matches goes without one. postgres-js runs a connection's
 * statements in the order they were handed to it and pipelines them (up to `max_pipeline`,
 * coalescing the writes of one event-loop turn), so statements of many requests share a write
 * again, as on a plain pool, and nothing is reserved per statement.
 *
 * The guarantee (no statement here runs under another person's reach; a fresh connection has
 * none) rests on that order, plus three checks:
 * - the `set_config` a statement relies on ("its token") must have succeeded, else the
 *   statement's result is refused (a read under the previous reach is never returned);
 * - it must have run on the same backend as the statement (postgres-js reconnects a lost
 *   connection and runs what was still queued on the new one, which has no reach): else refused;
 * - any failure, and any close of the connection, makes the lane forget its reach, so the next
 *   statement sets it again; a failure of the connection itself also holds new statements off the
 *   lane until its connection has closed (lane-reset.ts: one handed over before that would hang).
 */
export interface TenantLanes {
  /** The options drizzle reads and adjusts (parsers, serializers): one object shared by every lane. */
  readonly options: Sql["options"];
  /** Runs one standalone statement under `reach` (a key naming the settings `setReach` makes). */
  run(reach: string, setReach: string, query: string, params: unknown[] | undefined, options: unknown, values: boolean): Promise<unknown>;
  /** A transaction on the lane least in use; `fn` sets its own (transaction-local) reach. */
  begin<T>(fn: (sql: TransactionSql) => Promise<T>): Promise<T>;
  end(options: { timeout: number }): Promise<void>;
  /** Connects every lane now, with no reach (otherwise a lane connects on its first statement). */
  connectAll(): Promise<void>;
  /** For tests and benches: per lane, the reach it remembers and what is in flight on it. */
  snapshot(): { reach: string | null; inFlight: number; transactions: number }[];
}

interface Backend {
  pid: number | null;
  secret: number | null;
}

/** A `set_config` sent on a lane, and the backend it ran on once it has. */
interface ReachToken {
  settled: Promise<void>;
  ok: boolean;
  error: unknown;
  pid: number | null;
  secret: number | null;
}

interface Lane extends LaneLoad {
  sql: Sql;
  reach: string | null;
  token: ReachToken | null;
  /** The event-loop turn in which a statement was last handed to it (its write goes out then). */
  turn: number;
}

/** A statement whose reach could not be confirmed: reported like a lost connection (a 503). */
export class ReachLostError extends Error {
  readonly code = "CONNECTION_CLOSED";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ReachLostError";
  }
}

/** Opens the tenant pool's lanes (lazily: a lane connects on its first statement). */
export function openTenantLanes(url: string, size: number, options: Options<Record<string, PostgresType>>): TenantLanes {
  const lanes: Lane[] = [];
  const forget = (lane: Lane) => {
    lane.reach = null;
    lane.token = null;
  };
  const closed = (lane: Lane) => {
    forget(lane);
    lane.reset.closed();
  };
  const first = postgres(url, { ...options, max: 1, onclose: () => closed(lanes[0] as Lane) });
  lanes.push({ sql: first, reach: null, token: null, inFlight: 0, transactions: 0, turn: -1, progressAt: 0, reset: laneReset() });
  for (let i = 1; i < size; i += 1) {
    // A parsed options object is taken as is, so every lane shares the first one's parsers and
    // serializers (drizzle adjusts them on the object it is given) and its fetched array types.
    const parsed = { ...first.options, onclose: () => closed(lanes[i] as Lane) };
    lanes.push({
      sql: postgres(parsed as unknown as Options<Record<string, PostgresType>>),
      reach: null,
      token: null,
      inFlight: 0,
      transactions: 0,
      turn: -1,
      progressAt: 0,
      reset: laneReset(),
    });
  }

  // postgres-js writes what a connection was handed during one event-loop turn in one socket
  // write (at setImmediate). Statements of concurrent requests that arrive in the same turn
  // therefore join the lane that already has a write going out, up to JOIN_DEPTH in flight: one
  // write (one syscall, and on loopback the server's receive path) for all of them.
  let turn = 0;
  let turnEnding = false;
  const endTurn = () => {
    turn += 1;
    turnEnding = false;
  };
  const handedTo = (lane: Lane) => {
    lane.turn = turn;
    if (!turnEnding) {
      turnEnding = true;
      setImmediate(endTurn);
    }
  };

  // Cheapest lane for a statement under `reach`: what is in flight there (nothing, if it joins
  // this turn's write), one more if the reach must be set first. Ties go to the lane joined this
  // turn, then to the lane already set.
  const pick = (reach: string): Lane => {
    const now = performance.now();
    let best = lanes[0] as Lane;
    let bestCost = Number.POSITIVE_INFINITY;
    let bestRank = -1;
    for (const lane of lanes) {
      const busy = heldWeight(lane, now);
      const joins = lane.turn === turn && busy === 0 && lane.inFlight < JOIN_DEPTH;
      const matches = lane.reach === reach;
      const cost = (joins ? 0 : lane.inFlight + busy) + (matches ? 0 : 1);
      const rank = (joins ? 2 : 0) + (matches ? 1 : 0);
      if (cost < bestCost || (cost === bestCost && rank > bestRank)) {
        best = lane;
        bestCost = cost;
        bestRank = rank;
      }
    }
    return best;
  };

  const sent = (lane: Lane) => {
    if (lane.inFlight === 0) lane.progressAt = performance.now();
    lane.inFlight += 1;
  };
  const done = (lane: Lane) => {
    lane.inFlight -= 1;
    lane.progressAt = performance.now();
  };

  const sendReach = (lane: Lane, reach: string, setReach: string): ReachToken => {
    const token: ReachToken = { settled: Promise.resolve(), ok: false, error: undefined, pid: null, secret: null };
    lane.reach = reach;
    lane.token = token;
    sent(lane);
    // No parameters: sent as a simple query, which needs no describe round trip and pipelines.
    const set = lane.sql.unsafe(setReach);
    token.settled = set.then(
      () => {
        token.ok = true;
        ({ pid: token.pid, secret: token.secret } = backendOf(set));
      },
      (error: unknown) => {
        token.error = error;
        lane.reset.failed(error);
        if (lane.token === token) forget(lane);
      },
    );
    void token.settled.finally(() => done(lane));
    set.execute();
    return token;
  };

  const lanesApi: TenantLanes = {
    options: first.options,
    async run(reach, setReach, query, params, options, values) {
      const lane = pick(reach);
      // Every lane is being reset (lane-reset.ts): the statement waits for this one's close.
      const resetting = lane.reset.pending;
      if (resetting) {
        await resetting;
        return lanesApi.run(reach, setReach, query, params, options, values);
      }
      handedTo(lane);
      const token = lane.reach === reach && lane.token ? lane.token : sendReach(lane, reach, setReach);
      sent(lane);
      const pending = lane.sql.unsafe(query, params as never[], options as never);
      // Handed to the lane now, after its set_config: postgres-js keeps that order on the wire.
      (values ? pending.values() : pending).execute();
      let result: unknown;
      let failure: { error: unknown } | undefined;
      try {
        result = await pending;
      } catch (error) {
        failure = { error };
        lane.reset.failed(error);
      } finally {
        done(lane);
      }
      await token.settled;
      const backend = backendOf(pending);
      if (!token.ok || backend.pid !== token.pid || backend.secret !== token.secret) {
        if (lane.token === token) forget(lane);
        throw new ReachLostError("the tenant connection was lost before the statement ran under its reach", {
          cause: token.ok ? failure?.error : token.error,
        });
      }
      if (failure) {
        // A failed statement leaves the session's reach as it was, but the lane is set again
        // next time rather than reasoned about.
        if (lane.token === token) forget(lane);
        throw failure.error;
      }
      return result;
    },
    async begin(fn) {
      const lane = leastLoaded(lanes);
      await lane.reset.pending;
      lane.transactions += 1;
      try {
        // The transaction sets its reach locally: when it ends the lane's own reach is back,
        // so what the lane remembers stays true.
        return (await lane.sql.begin(fn)) as Awaited<ReturnType<typeof fn>>;
      } catch (error) {
        lane.reset.failed(error);
        throw error;
      } finally {
        lane.transactions -= 1;
      }
    },
    async end({ timeout }) {
      await Promise.all(lanes.map((l) => l.sql.end({ timeout })));
    },
    async connectAll() {
      // `select 1` sets no reach: a lane's bookkeeping (no reach set) stays true.
      await Promise.all(lanes.map((l) => l.sql`select 1`));
    },
    snapshot() {
      return lanes.map((l) => ({ reach: l.reach, inFlight: l.inFlight, transactions: l.transactions }));
    },
  };
  return lanesApi;
}

// postgres-js sets a query's `state` to its connection's backend key (pid and secret), an object
// the connection updates in place when it reconnects: read the values, not the object.
function backendOf(query: unknown): Backend {
  const state = (query as { state?: Backend | null }).state;
  return { pid: state?.pid ?? null, secret: state?.secret ?? null };
}
