import type { Db } from "@raptscallions/db";
import type { auditLog } from "@raptscallions/db";
import { sql } from "drizzle-orm";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Principal } from "../context.ts";
import { type AuditEntry, auditRow } from "./record.ts";

type AuditRow = typeof auditLog.$inferInsert;

/** Rows kept while the database refuses them; past this the oldest are dropped (and logged). */
const MAX_PENDING = 50_000;
const ROWS_PER_INSERT = 1_000;

/**
 * One statement of constant text for any number of rows: the rows travel as one JSON parameter
 * and `json_populate_recordset` types each field by the table's own column. Built by drizzle's
 * insert builder, a thousand rows were ten thousand parameters to build and serialise and a new
 * statement text (parsed and described again) for every distinct row count; in a reconnect storm
 * that was a few per cent of the instance's CPU (bench/README.md, storm.bench.ts).
 */
function insertRows(rows: AuditRow[]) {
  const json = JSON.stringify(
    rows.map((r) => ({
      actor_id: r.actorId ?? null,
      actor_kind: r.actorKind ?? "user",
      actor_name: r.actorName ?? null,
      actor_integration_id: r.actorIntegrationId ?? null,
      action: r.action,
      target_type: r.targetType,
      target_id: r.targetId ?? null,
      group_id: r.groupId ?? null,
      request_id: r.requestId ?? null,
      details: r.details ?? {},
      created_at: r.createdAt ?? null,
    })),
  );
  // A text parameter cast to json: the driver passes the text as it is (a json-typed parameter
  // would be serialised again).
  return sql`insert into audit_log (actor_id, actor_kind, actor_name, actor_integration_id, action, target_type, target_id, group_id, request_id, details, created_at)
    select actor_id, actor_kind, actor_name, actor_integration_id, action, target_type, target_id, group_id, request_id, details, coalesce(created_at, now())
    from json_populate_recordset(null::audit_log, ${json}::text::json)`;
}

/**
 * Audit rows that record a read, not a change, written off the request's path: a socket's
 * subscription to a session room records `session.view`, and a reconnect storm subscribes
 * thousands of sockets at once. Rows are stamped with the time of the read and inserted together
 * every `flushMs`.
 *
 * Only for reads: an entry that must exist if and only if a change committed still goes through
 * `recordAudit` in the change's own transaction. `close()` writes everything still pending, so a
 * clean shutdown loses nothing; a crash (kill -9, power loss) loses the rows of at most the last
 * `flushMs`, and rows the database refused until then (they are retried on every flush).
 */
export class AuditBatch {
  private pending: AuditRow[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly deps: { db: Db; logger: Logger; clock: Clock },
    private readonly flushMs: number,
  ) {}

  add(ctx: { actor: Principal; requestId: string | null }, entry: AuditEntry): void {
    this.pending.push({ ...auditRow(ctx, entry), createdAt: this.deps.clock.now() });
    if (this.pending.length > MAX_PENDING) {
      const dropped = this.pending.splice(0, this.pending.length - MAX_PENDING);
      this.deps.logger.error("audit batch overflow: oldest rows dropped", { dropped: dropped.length });
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.flushMs);
  }

  /** Writes every pending row; rows the database refuses stay pending for the next flush. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    this.flushing = (async () => {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const chunk = rows.slice(i, i + ROWS_PER_INSERT);
        try {
          await this.deps.db.execute(insertRows(chunk));
        } catch (err) {
          this.deps.logger.warn("audit batch insert failed; retrying on the next flush", { rows: rows.length - i, err });
          this.pending = [...rows.slice(i), ...this.pending];
          this.timer ??= setTimeout(
            () => {
              this.timer = null;
              void this.flush();
            },
            Math.max(this.flushMs, 1000),
          );
          return;
        }
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  /** Stops the timer and writes what is pending (one attempt: the process is going away). */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length > 0) this.deps.logger.error("audit rows lost at shutdown: the database refused them", { rows: this.pending.length });
  }
}
