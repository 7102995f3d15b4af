import { AppError, type AttentionEntry, type AttentionFlag, type ClassAttentionDto, NotFoundError } from "@raptscallions/core";
import { classes, classMembers, type Db, extractions, groups, runs, sessions, users } from "@raptscallions/db";
import { STRUGGLE_DETECTOR_ID } from "@raptscallions/modules";
import { and, eq, inArray, sql } from "drizzle-orm";
import { assertVisible, policy } from "../../access/policy.ts";
import type { InsightsConfig } from "../../lib/insights-config.ts";
import { alertStudentIdSql } from "../alerts/dto.ts";
import type { ServiceContext } from "../context.ts";

/**
 * The scoring (docs/insights.md): points add up, the highest total ranks first. Open alerts
 * dominate (one critical alert outranks everything else a student can show), then a session
 * stuck without an answer, then struggle, then silence.
 */
export const ATTENTION_POINTS = {
  alert: { critical: 1000, high: 400, medium: 100, low: 25 },
  stuckSession: 300,
  struggle: { struggling: 200, mild: 60 },
  /** Silent past the threshold: this much, plus a point per further minute up to `silentMax`. */
  silent: 50,
  silentMax: 100,
} as const;

type Thresholds = Pick<InsightsConfig, "stuckAfterSeconds" | "silentAfterSeconds">;

/** What the ranking is computed from, per live session. */
interface LiveSessionFacts {
  sessionId: string;
  studentId: string;
  /** Epoch ms of the student's latest message in it; null before their first. */
  lastStudentAt: number | null;
  /** Whether that message still has no completed answer (nor a teacher's reply). */
  waiting: boolean;
  struggle: string | null;
}

/** The attention list plus when, at the earliest, a flag turns on by time passing alone. */
export interface ComputedAttention {
  attention: ClassAttentionDto;
  /** Epoch ms when a waiting session becomes stuck or a student silent; null when nothing will. */
  nextDeadline: number | null;
}

/**
 * Ranks a class's students by who needs attention, from the stored rows: open alerts by severity
 * (struggle and moderation-outage findings left out: they are counted as what they are, or say
 * nothing about the student), the struggle level of their live sessions, time since their last
 * message while a session is live, and live sessions whose last student message has no completed
 * answer after `stuckAfterSeconds`. A service core: no permission check (callers do it).
 */
export async function computeClassAttention(db: Db, classId: string, now: Date, thresholds: Thresholds): Promise<ComputedAttention> {
  const [students, alertRows, live] = await Promise.all([
    db
      .select({ id: users.id, name: users.name })
      .from(classMembers)
      .innerJoin(users, eq(users.id, classMembers.userId))
      .where(and(eq(classMembers.classId, classId), eq(classMembers.role, "student"))),
    db
      .select({ studentId: alertStudentIdSql, severity: extractions.severity, count: sql<number>`count(*)::int` })
      .from(extractions)
      // A run's alerts count for whoever started it, as a session's for its student.
      .leftJoin(sessions, eq(sessions.id, extractions.sessionId))
      .leftJoin(runs, eq(runs.id, extractions.runId))
      .where(
        and(
          eq(extractions.classId, classId),
          eq(extractions.status, "open"),
          eq(extractions.isAlert, true),
          sql`${extractions.module} <> ${STRUGGLE_DETECTOR_ID}`,
          sql`${extractions.kind} <> 'moderation-unavailable'`,
        ),
      )
      .groupBy(alertStudentIdSql, extractions.severity),
    loadLiveSessions(db, classId),
  ]);

  const nowMs = now.getTime();
  const stuckMs = thresholds.stuckAfterSeconds * 1000;
  const silentMs = thresholds.silentAfterSeconds * 1000;
  let nextDeadline: number | null = null;
  const deadline = (at: number) => {
    if (at > nowMs && (nextDeadline === null || at < nextDeadline)) nextDeadline = at;
  };

  const entries = students.map((student): Omit<AttentionEntry, "rank"> => {
    const openAlerts = { total: 0, critical: 0, high: 0, medium: 0, low: 0 };
    for (const a of alertRows) {
      if (a.studentId !== student.id || a.severity === "info") continue;
      openAlerts[a.severity] += a.count;
      openAlerts.total += a.count;
    }
    const sessionsOf = live.filter((s) => s.studentId === student.id);
    const stuckSessions: AttentionEntry["stuckSessions"] = [];
    for (const s of sessionsOf) {
      if (!s.waiting || s.lastStudentAt === null) continue;
      if (nowMs - s.lastStudentAt >= stuckMs) stuckSessions.push({ sessionId: s.sessionId, waitingSeconds: Math.floor((nowMs - s.lastStudentAt) / 1000) });
      else deadline(s.lastStudentAt + stuckMs);
    }
    const struggle = sessionsOf.some((s) => s.struggle === "struggling") ? "struggling" : sessionsOf.some((s) => s.struggle === "mild") ? "mild" : "none";
    const lastAt = sessionsOf.reduce<number | null>((max, s) => (s.lastStudentAt !== null && (max === null || s.lastStudentAt > max) ? s.lastStudentAt : max), null);
    // Silence counts from the session's start when the student has not written yet.
    const since = sessionsOf.length === 0 ? null : (lastAt ?? Math.min(...sessionsOf.map((s) => s.startedAt)));
    const silentSeconds = since === null ? null : Math.max(0, Math.floor((nowMs - since) / 1000));
    const silent = since !== null && nowMs - since >= silentMs;
    if (since !== null && !silent) deadline(since + silentMs);

    const points = ATTENTION_POINTS;
    let score =
      openAlerts.critical * points.alert.critical + openAlerts.high * points.alert.high + openAlerts.medium * points.alert.medium + openAlerts.low * points.alert.low;
    score += stuckSessions.length * points.stuckSession;
    if (struggle !== "none") score += points.struggle[struggle];
    if (silent && silentSeconds !== null) score += Math.min(points.silentMax, points.silent + Math.floor((silentSeconds - thresholds.silentAfterSeconds) / 60));

    const flags: AttentionFlag[] = [];
    if (openAlerts.total > 0) flags.push("alert");
    if (stuckSessions.length > 0) flags.push("stuck");
    if (struggle === "struggling") flags.push("struggling");
    if (struggle === "mild") flags.push("mild-struggle");
    if (silent) flags.push("silent");
    return {
      studentId: student.id,
      name: student.name,
      score,
      flags,
      openAlerts,
      struggle,
      lastMessageAt: lastAt === null ? null : new Date(lastAt).toISOString(),
      silentSeconds,
      stuckSessions,
      liveSessionIds: sessionsOf.map((s) => s.sessionId),
    };
  });

  entries.sort(
    (a, b) =>
      b.score - a.score || (b.silentSeconds ?? -1) - (a.silentSeconds ?? -1) || (a.name ?? "").localeCompare(b.name ?? "") || a.studentId.localeCompare(b.studentId),
  );
  return {
    attention: {
      classId,
      computedAt: now.toISOString(),
      stuckAfterSeconds: thresholds.stuckAfterSeconds,
      silentAfterSeconds: thresholds.silentAfterSeconds,
      students: entries.map((e, i) => ({ ...e, rank: i + 1 })),
    },
    nextDeadline,
  };
}

// Per live session, the latest student message and whether an answer (or a teacher) followed it,
// and the latest struggle level: each a lookup on (session_id, seq) or the extractions index.
// Spelled out: inside a selected expression drizzle names a column without its table, which the
// subqueries' own tables would capture.
const SESSION_ID = sql.raw('"sessions"."id"');

async function loadLiveSessions(db: Db, classId: string): Promise<(LiveSessionFacts & { startedAt: number })[]> {
  const rows = await db
    .select({
      sessionId: sessions.id,
      studentId: sessions.studentId,
      startedAt: sql<number>`(extract(epoch from ${sessions.startedAt}) * 1000)::float8`,
      lastStudentAt: sql<number | null>`(select (extract(epoch from u.created_at) * 1000)::float8 from messages u
        where u.session_id = ${SESSION_ID} and u.role = 'user' order by u.seq desc limit 1)`,
      waiting: sql<boolean | null>`(select not exists (select 1 from messages a where a.session_id = u.session_id and a.seq > u.seq
          and ((a.role = 'assistant' and a.state in ('complete', 'stopped')) or a.role = 'teacher'))
        from messages u where u.session_id = ${SESSION_ID} and u.role = 'user' order by u.seq desc limit 1)`,
      struggle: sql<string | null>`(select e.data->>'level' from extractions e
        where e.session_id = ${SESSION_ID} and e.module = ${STRUGGLE_DETECTOR_ID} order by e.created_at desc limit 1)`,
    })
    .from(sessions)
    .where(and(eq(sessions.classId, classId), inArray(sessions.state, ["active", "paused"])));
  // Unary plus, not `Number()`: JavaScriptCore's optimised `Number(x)` on these epoch-ms doubles
  // (whole on one row, fractional on the next) fails its speculation on every call and is
  // recompiled again and again (an OSR exit per row; bench/README, "the JIT thread").
  return rows.map((r) => ({
    ...r,
    startedAt: +r.startedAt,
    lastStudentAt: r.lastStudentAt === null ? null : +r.lastStudentAt,
    waiting: r.waiting === true,
  }));
}

/** `GET /api/classes/:id/attention`: the class's teachers and admins over its group. */
export async function getClassAttention({ ctx, input }: { ctx: ServiceContext; input: { classId: string; thresholds: Thresholds } }): Promise<ClassAttentionDto> {
  const [row] = await ctx.db
    .select({ id: classes.id, groupPath: groups.path })
    .from(classes)
    .innerJoin(groups, eq(groups.id, classes.groupId))
    .where(eq(classes.id, input.classId));
  if (!row) throw new NotFoundError("Class");
  const ref = { id: row.id, groupPath: row.groupPath };
  assertVisible(policy.canViewClass(ctx.actor, ref), "Class");
  if (!policy.canManageClass(ctx.actor, ref)) throw new AppError("FORBIDDEN", "The attention list is for the class's teachers and admins");
  const { attention } = await computeClassAttention(ctx.db, row.id, ctx.clock.now(), input.thresholds);
  return attention;
}
