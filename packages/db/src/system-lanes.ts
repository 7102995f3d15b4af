import postgres, { type Options, type PostgresType, type Sql, type TransactionSql } from "postgres";
import { heldWeight, JOIN_DEPTH, type LaneLoad, leastLoaded } from "./lane-load.ts";
import { laneReset } from "./lane-reset.ts";

/**
 * The system pool as lanes: `size` connections, each its own postgres-js client of one
 * connection, so this module decides which connection a statement goes to — as the tenant
 * pool's lanes do (tenant-lanes.ts), without a reach to set: every system connection carries the
 * system reach from its startup packet, on every reconnect too.
 *
 * Why: a plain postgres-js pool hands each statement to an idle connection first, so the
 * statements of one event-loop turn (the answer runner's start and finalise updates of many
 * answers, which arrive together) leave in as many socket writes as there are idle connections.
 * Here they join the lane that already has a write going out in this turn (up to JOIN_DEPTH in
 * flight): one write, one system call and one wake-up of the server for all of them. A lane in a
 * transaction, stalled, or whose connection just failed (lane-reset.ts) is avoided as on the
 * tenant pool.
 *
 * The result is what drizzle's postgres-js driver uses of a client (`options`, `unsafe`, `begin`,
 * `end`); nothing else of postgres-js' `Sql` is offered.
 */
export interface SystemLanes {
  /** The client drizzle is built on. */
  readonly sql: Sql;
  end(options: { timeout: number }): Promise<void>;
  /** Connects every lane now (otherwise a lane connects on its first statement). */
  connectAll(): Promise<void>;
  /** For tests and benches: per lane, what is in flight on it and whether it is in a transaction. */
  snapshot(): { inFlight: number; transactions: number }[];
}

interface Lane extends LaneLoad {
  sql: Sql;
  /** The event-loop turn in which a statement was last handed to it (its write goes out then). */
  turn: number;
}

/** Opens the system pool's lanes (lazily: a lane connects on its first statement). */
export function openSystemLanes(url: string, size: number, options: Options<Record<string, PostgresType>>): SystemLanes {
  const lanes: Lane[] = [];
  const closed = (i: number) => () => lanes[i]?.reset.closed();
  const lane = (sql: Sql): Lane => ({ sql, inFlight: 0, transactions: 0, turn: -1, progressAt: 0, reset: laneReset() });
  const first = postgres(url, { ...options, max: 1, onclose: closed(0) });
  lanes.push(lane(first));
  for (let i = 1; i < size; i += 1) {
    // A parsed options object is taken as is: every lane shares the first one's parsers and
    // serializers (drizzle adjusts them on the object it is given) and its fetched array types.
    const parsed = { ...first.options, onclose: closed(i) };
    lanes.push(lane(postgres(parsed as unknown as Options<Record<string, PostgresType>>)));
  }

  let turn = 0;
  let turnEnding = false;
  const endTurn = () => {
    turn += 1;
    turnEnding = false;
  };

  // The lane joined this turn if it can take one more, else the least loaded.
  const pick = (): Lane => {
    const now = performance.now();
    let best = lanes[0] as Lane;
    let bestCost = Number.POSITIVE_INFINITY;
    for (const lane of lanes) {
      const busy = heldWeight(lane, now);
      if (lane.turn === turn && busy === 0 && lane.inFlight < JOIN_DEPTH) return lane;
      const cost = lane.inFlight + busy;
      if (cost < bestCost) {
        best = lane;
        bestCost = cost;
      }
    }
    return best;
  };

  const run = (query: string, params: unknown[] | undefined, queryOptions: unknown, values: boolean): Promise<unknown> => {
    const lane = pick();
    // Every lane is being reset (lane-reset.ts): this one's statement waits for its connection's close.
    const resetting = lane.reset.pending;
    if (resetting) return resetting.then(() => run(query, params, queryOptions, values));
    lane.turn = turn;
    if (!turnEnding) {
      turnEnding = true;
      setImmediate(endTurn);
    }
    if (lane.inFlight === 0) lane.progressAt = performance.now();
    lane.inFlight += 1;
    const pending = lane.sql.unsafe(query, params as never[], queryOptions as never);
    const started = values ? pending.values() : pending;
    started.execute();
    const done = () => {
      lane.inFlight -= 1;
      lane.progressAt = performance.now();
    };
    return started.then(
      (result) => {
        done();
        return result;
      },
      (error: unknown) => {
        done();
        lane.reset.failed(error);
        throw error;
      },
    );
  };

  const client = {
    options: first.options,
    unsafe(query: string, params?: unknown[], queryOptions?: unknown) {
      // drizzle either awaits the query or calls `.values()` on it (array rows).
      let objects: Promise<unknown> | undefined;
      return {
        // biome-ignore lint/suspicious/noThenProperty: drizzle awaits what `unsafe` returns.
        then: (ok: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => {
          objects ??= run(query, params, queryOptions, false);
          return objects.then(ok, fail);
        },
        values: () => run(query, params, queryOptions, true),
      };
    },
    async begin(fn: (sql: TransactionSql) => Promise<unknown>) {
      const lane = leastLoaded(lanes);
      await lane.reset.pending;
      lane.transactions += 1;
      try {
        return await lane.sql.begin(fn);
      } catch (error) {
        lane.reset.failed(error);
        throw error;
      } finally {
        lane.transactions -= 1;
      }
    },
  };

  return {
    sql: client as unknown as Sql,
    async end({ timeout }) {
      await Promise.all(lanes.map((l) => l.sql.end({ timeout })));
    },
    async connectAll() {
      await Promise.all(lanes.map((l) => l.sql`select 1`));
    },
    snapshot() {
      return lanes.map((l) => ({ inFlight: l.inFlight, transactions: l.transactions }));
    },
  };
}
