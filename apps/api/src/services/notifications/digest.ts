import { classes, classMembers, type Db, type DbOrTx, extractions, groups, notificationDeliveries, SEVERITIES, users } from "@raptscallions/db";
import { and, asc, eq, gt, gte, inArray, isNotNull, isNull, lte, ne } from "drizzle-orm";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { atLeast, loadNotificationConfig, type NotificationConfig, type Severity } from "../groups/notification-config.ts";
import { addDays, localParts, zonedHour } from "./local-time.ts";
import { redactedExcerpt } from "./render.ts";

/** A digest lists at most this many findings; the rest are counted ("and N more"). */
const MAX_ITEMS = 50;
// A window is at most 25 hours (a day that falls back) and ends at most a day before a run that
// comes late in the local day: findings older than this cannot be in any due digest.
const LOOKBACK_MS = 50 * 60 * 60 * 1000;

/** One line of a digest: what was found, where, when (local), and a link target; never chat text. */
export interface DigestItem {
  findingId: string;
  sessionId: string | null;
  runId: string | null;
  messageId: string | null;
  classId: string;
  className: string;
  groupId: string | null;
  module: string;
  kind: string;
  severity: string;
  summary: string;
  createdAt: string;
  localTime: string;
}

/** The dedupe key of a teacher's digest: one delivery per teacher per local date, on every instance. */
export const digestKey = (teacherId: string, date: string) => `digest:${teacherId}:${date}`;

interface TeacherClass {
  teacherId: string;
  email: string;
  classId: string;
  className: string;
  groupId: string;
  groupPath: string;
}

/** Whether a finding was mailed on its own (an alert at or above the group's email threshold). */
function mailedAlone(f: { isAlert: boolean; severity: Severity }, config: NotificationConfig): boolean {
  return f.isAlert && config.email.enabled && atLeast(f.severity, config.email.minSeverity);
}

/** The deepest group above all of `paths` (ltree labels): whose settings a teacher's digest follows. */
function commonPath(paths: string[]): string {
  const split = paths.map((p) => p.split("."));
  const first = split[0] ?? [];
  let n = 0;
  while (n < first.length && split.every((s) => s[n] === first[n])) n++;
  return first.slice(0, n).join(".");
}

/**
 * Queues the daily digest of every teacher whose digest is due: once the teacher's local time
 * (the time zone and `digest.hour` of the group above all their classes) has passed that hour
 * today, one email listing the findings in their classes from the previous day's hour to today's
 * (23 to 25 hours across a DST change) that were not mailed on their own — low-severity findings
 * and struggle signals — at or above `digest.minSeverity`, dismissed ones left out. Nothing is
 * queued when there is nothing to report. The outbox row's key is the teacher and the local date,
 * checked before and enforced on insert, so a re-run or another instance adds nothing; the
 * dispatcher sends it like any other mail. A day on which no run happened after the hour (the
 * service was down until midnight) is skipped, not sent late. Returns how many it queued.
 */
export async function queueDailyDigests(ctx: { db: Db; clock: Clock; logger: Logger }, opts: { signal?: AbortSignal } = {}): Promise<number> {
  const now = ctx.clock.now();
  const since = new Date(now.getTime() - LOOKBACK_MS);
  const candidates = await ctx.db
    .selectDistinct({ classId: extractions.classId })
    .from(extractions)
    .where(
      and(
        gte(extractions.createdAt, since),
        lte(extractions.createdAt, now),
        isNotNull(extractions.classId),
        ne(extractions.severity, "info"),
        ne(extractions.status, "dismissed"),
      ),
    );
  const classIds = candidates.map((c) => c.classId).filter((id): id is string => id !== null);
  if (classIds.length === 0) return 0;

  const teachersOf = (where: ReturnType<typeof and>) =>
    ctx.db
      .select({ teacherId: users.id, email: users.email, classId: classes.id, className: classes.name, groupId: classes.groupId, groupPath: groups.path })
      .from(classMembers)
      .innerJoin(users, eq(users.id, classMembers.userId))
      .innerJoin(classes, eq(classes.id, classMembers.classId))
      .innerJoin(groups, eq(groups.id, classes.groupId))
      .where(and(eq(classMembers.role, "teacher"), isNotNull(users.email), eq(users.status, "active"), isNull(users.deletedAt), isNull(classes.archivedAt), where));
  const involved = await teachersOf(inArray(classMembers.classId, classIds));
  const teacherIds = [...new Set(involved.map((t) => t.teacherId))];
  if (teacherIds.length === 0) return 0;
  // Every class of those teachers (not only today's), so the settings a digest follows do not
  // change with which classes happened to have findings.
  const all = (await teachersOf(inArray(classMembers.userId, teacherIds))).filter((t): t is TeacherClass => t.email !== null);

  const configs = new Map<string, Promise<NotificationConfig>>();
  const configOf = (groupId: string) => {
    let c = configs.get(groupId);
    if (!c) {
      c = loadNotificationConfig(ctx.db, groupId, ctx.logger);
      configs.set(groupId, c);
    }
    return c;
  };
  const groupAt = new Map<string, string>();
  for (const t of all) groupAt.set(t.groupPath, t.groupId);

  const byTeacher = new Map<string, TeacherClass[]>();
  for (const t of all) byTeacher.set(t.teacherId, [...(byTeacher.get(t.teacherId) ?? []), t]);

  // Whose digest is due now, and for which local date and window.
  const due: { teacherId: string; email: string; groupId: string; date: string; timeZone: string; from: Date; to: Date; classes: TeacherClass[] }[] = [];
  for (const [teacherId, rows] of byTeacher) {
    const home = commonPath(rows.map((r) => r.groupPath));
    const homeId = groupAt.get(home) ?? (await groupIdAt(ctx.db, home)) ?? rows[0]?.groupId;
    if (!homeId) continue;
    const config = await configOf(homeId);
    if (!config.digest.enabled) continue;
    const { date } = localParts(now, config.timeZone);
    const to = zonedHour(date, config.digest.hour, config.timeZone);
    if (now < to) continue;
    const from = zonedHour(addDays(date, -1), config.digest.hour, config.timeZone);
    due.push({ teacherId, email: rows[0]?.email ?? "", groupId: homeId, date, timeZone: config.timeZone, from, to, classes: rows });
  }
  if (due.length === 0) return 0;
  const done = new Set(
    (
      await ctx.db
        .select({ key: notificationDeliveries.dedupeKey })
        .from(notificationDeliveries)
        .where(
          inArray(
            notificationDeliveries.dedupeKey,
            due.map((d) => digestKey(d.teacherId, d.date)),
          ),
        )
    ).map((r) => r.key),
  );
  const pending = due.filter((d) => !done.has(digestKey(d.teacherId, d.date)));
  if (pending.length === 0) return 0;

  const findings = await ctx.db
    .select()
    .from(extractions)
    .where(
      and(
        inArray(extractions.classId, [...new Set(pending.flatMap((d) => d.classes.map((c) => c.classId)))]),
        gt(extractions.createdAt, new Date(Math.min(...pending.map((d) => d.from.getTime())))),
        lte(extractions.createdAt, new Date(Math.max(...pending.map((d) => d.to.getTime())))),
        ne(extractions.severity, "info"),
        ne(extractions.status, "dismissed"),
      ),
    )
    .orderBy(asc(extractions.createdAt));

  let queued = 0;
  for (const d of pending) {
    if (opts.signal?.aborted) break;
    const names = new Map(d.classes.map((c) => [c.classId, c.className]));
    const items: DigestItem[] = [];
    for (const f of findings) {
      if (!f.classId || !names.has(f.classId) || f.createdAt <= d.from || f.createdAt > d.to) continue;
      const config = await configOf(f.groupId ?? d.groupId);
      const severity = f.severity as Severity;
      const local = localParts(f.createdAt, d.timeZone);
      if (!atLeast(severity, config.digest.minSeverity) || mailedAlone({ isAlert: f.isAlert, severity }, config)) continue;
      items.push({
        findingId: f.id,
        sessionId: f.sessionId,
        runId: f.runId,
        messageId: f.messageId,
        classId: f.classId,
        className: names.get(f.classId) ?? "",
        groupId: f.groupId,
        module: f.module,
        kind: f.kind,
        severity,
        summary: typeof f.data.message === "string" ? f.data.message : "",
        createdAt: f.createdAt.toISOString(),
        localTime: `${local.date} ${String(local.hour).padStart(2, "0")}:${String(local.minuteOfDay % 60).padStart(2, "0")}`,
      });
    }
    if (items.length === 0) continue;
    const inserted = await ctx.db
      .insert(notificationDeliveries)
      .values({
        groupId: d.groupId,
        purpose: "digest",
        step: 0,
        channel: "email",
        recipient: d.email,
        recipientUserId: d.teacherId,
        dedupeKey: digestKey(d.teacherId, d.date),
        payload: {
          date: d.date,
          timeZone: d.timeZone,
          from: d.from.toISOString(),
          to: d.to.toISOString(),
          total: items.length,
          items: items.slice(0, MAX_ITEMS),
          bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, items.filter((i) => i.severity === s).length]).filter(([, n]) => n !== 0)),
        },
        nextAttemptAt: now,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: notificationDeliveries.id });
    queued += inserted.length;
  }
  if (queued > 0) ctx.logger.info("daily digests queued", { queued });
  return queued;
}

async function groupIdAt(db: DbOrTx, path: string): Promise<string | null> {
  if (path === "") return null;
  const [row] = await db.select({ id: groups.id }).from(groups).where(eq(groups.path, path));
  return row?.id ?? null;
}

/**
 * The PII-redacted excerpts of a digest's items, for the items whose group opted in to excerpts
 * (`includeExcerpt`); read when the mail is rendered, never stored in the outbox.
 */
export async function digestExcerpts(db: DbOrTx, payload: Record<string, unknown>, now: Date, logger: Logger): Promise<Map<string, string>> {
  const items = Array.isArray(payload.items) ? (payload.items as Partial<DigestItem>[]) : [];
  const out = new Map<string, string>();
  const optedIn = new Map<string, boolean>();
  for (const item of items) {
    if (typeof item.findingId !== "string" || typeof item.messageId !== "string" || typeof item.groupId !== "string") continue;
    let on = optedIn.get(item.groupId);
    if (on === undefined) {
      on = (await loadNotificationConfig(db, item.groupId, logger)).includeExcerpt;
      optedIn.set(item.groupId, on);
    }
    if (!on) continue;
    const excerpt = await redactedExcerpt(db, item.messageId, now);
    if (excerpt) out.set(item.findingId, excerpt);
  }
  return out;
}
