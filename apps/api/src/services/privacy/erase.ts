import { AppError, type ErasureMode, type ErasureResultDto, NotFoundError } from "@raptscallions/core";
import {
  aiUsage,
  auditLog,
  classMembers,
  type DbOrTx,
  extractions,
  groupMembers,
  messages,
  notificationDeliveries,
  rosterLinks,
  rosterRuns,
  runs,
  sessions,
  submissions,
  users,
} from "@raptscallions/db";
import { type AnyColumn, and, asc, eq, gt, inArray, ne, or, type SQL, sql } from "drizzle-orm";
import { isAdminOver } from "../../access/policy.ts";
import { recordAudit } from "../audit/record.ts";
import type { ServiceContext } from "../context.ts";
import { changeSessionState } from "../live/teacher-actions.ts";
import { publishRevocation } from "../realtime/revocation.ts";
import { auditConcerning, rosterLinksOf } from "./export-entities.ts";
import { type Identity, identityRedactor, mapStrings } from "./redact.ts";
import { assertWholeReach, requireStudentInReach, type UserRow } from "./scope.ts";
import { resolveErasureMode } from "./settings.ts";

/** What an erased person's row shows instead of a name. */
export const ERASED_USER_NAME = "Erased user";
const PAGE = 500;
/** How long erasure waits for an answer it stopped to be finalised before it refuses (409, retry). */
const STREAM_SETTLE_MS = 5_000;

/** The erasure's audit entry names the person only by this hash of their id (the row itself is nameless by then). */
export async function erasureTargetId(userId: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(userId)));
  return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Erases a student on an admin's request, per the groups' `settings.privacy.erasure`:
 * - `anonymise` keeps the learning records (sessions, messages, runs, submissions, grades,
 *   findings) with every identifier removed from their text;
 * - `delete` removes them.
 * Either way: the user row becomes a nameless tombstone (no name, email, Clerk id, SIS id), the
 * memberships and roster links go, ai_usage rows keep their amounts but lose the user id (budgets
 * and usage totals still add up), and audit entries stay, their details cleaned of identifiers
 * (the row they point to is the pseudonym). Live sessions are ended first through the ordinary
 * session-end path, so watchers see them end. Idempotent: a second request answers with
 * `alreadyErased` and changes nothing.
 */
export async function eraseStudent({ ctx, input }: { ctx: ServiceContext; input: { userId: string } }): Promise<ErasureResultDto> {
  const already = await alreadyErased(ctx, input.userId);
  if (already) return already;
  // The system scope: the refusal below must see every group the person has records in, also
  // those outside the admin's districts, which row-level security would hide from `ctx.db`.
  const scope = await requireStudentInReach(ctx.systemDb, ctx.actor, input.userId);
  assertWholeReach(ctx.actor, scope);
  const mode = await resolveErasureMode(
    ctx.systemDb,
    scope.touched.map((g) => g.id),
  );

  const live = await ctx.db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.studentId, scope.user.id), ne(sessions.state, "completed")));
  for (const s of live) await changeSessionState({ ctx, input: { sessionId: s.id, to: "completed" } });
  await waitForStreamsToSettle(ctx, scope.user.id);

  const erasedAt = ctx.clock.now();
  // Still the system scope: the memberships go before the user row is anonymised, and without
  // them the admin's districts would no longer see that row. The admin was proved above to
  // administer every group the person touched.
  const result = await ctx.systemDb.transaction(async (tx) => {
    const [locked] = await tx.select().from(users).where(eq(users.id, scope.user.id)).for("update");
    if (!locked) throw new NotFoundError("Student");
    if (locked.erasedAt) return null;
    const counts = await eraseRecords(tx, locked, mode, erasedAt);
    await recordAudit(tx, ctx, {
      action: "privacy.erase",
      targetType: "user",
      targetId: await erasureTargetId(locked.id),
      groupId: scope.inReach[0]?.id ?? scope.touched[0]?.id ?? null,
      details: { mode, counts, closedSessions: live.length },
    });
    return counts;
  });
  if (!result) return (await alreadyErased(ctx, input.userId)) ?? raceLost();
  await publishRevocation(ctx, { userId: scope.user.id, reason: "user-deleted" });
  return { userId: scope.user.id, mode, erasedAt: erasedAt.toISOString(), alreadyErased: false, closedSessions: live.map((s) => s.id), counts: result };
}

function raceLost(): never {
  throw new AppError("CONFLICT", "Another request erased this student at the same moment");
}

/** The earlier erasure, if the person was erased and the actor administers the group it was done in. */
async function alreadyErased(ctx: ServiceContext, userId: string): Promise<ErasureResultDto | null> {
  const [user] = await ctx.db.select({ erasedAt: users.erasedAt }).from(users).where(eq(users.id, userId));
  if (!user?.erasedAt) return null;
  const [entry] = await ctx.db
    .select({ details: auditLog.details, groupId: auditLog.groupId, path: sql<string | null>`(select g.path::text from groups g where g.id = ${auditLog.groupId})` })
    .from(auditLog)
    .where(and(eq(auditLog.action, "privacy.erase"), eq(auditLog.targetId, await erasureTargetId(userId))))
    .limit(1);
  const visible = ctx.actor.isSystemAdmin || (entry?.path != null && isAdminOver(ctx.actor, entry.path));
  if (!visible) throw new NotFoundError("Student");
  const mode: ErasureMode = entry?.details.mode === "delete" ? "delete" : "anonymise";
  return { userId, mode, erasedAt: user.erasedAt.toISOString(), alreadyErased: true, closedSessions: [], counts: {} };
}

/** An answer that was streaming when its session ended is finalised by its runner; erase after that. */
async function waitForStreamsToSettle(ctx: ServiceContext, userId: string): Promise<void> {
  const deadline = Date.now() + STREAM_SETTLE_MS;
  for (;;) {
    const [row] = await ctx.db
      .select({ id: messages.id })
      .from(messages)
      .innerJoin(sessions, eq(sessions.id, messages.sessionId))
      .where(and(eq(sessions.studentId, userId), eq(messages.state, "streaming")))
      .limit(1);
    if (!row) return;
    if (Date.now() > deadline) throw new AppError("SESSION_BUSY", "An answer in one of the student's sessions is still being finalised; retry in a moment");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Pages through `load` by id and applies `patch` to each row whose values it changes. */
async function rewriteById<T extends { id: string }>(load: (after: string | null) => Promise<T[]>, patch: (row: T) => Promise<boolean>): Promise<number> {
  let changed = 0;
  let after: string | null = null;
  for (;;) {
    const rows = await load(after);
    for (const row of rows) if (await patch(row)) changed += 1;
    const last = rows[rows.length - 1];
    if (!last || rows.length < PAGE) return changed;
    after = last.id;
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const after = (column: AnyColumn, id: string | null): SQL | undefined => (id ? gt(column, id) : undefined);

async function eraseRecords(tx: DbOrTx, user: UserRow, mode: ErasureMode, now: Date): Promise<Record<string, number>> {
  const uid = user.id;
  const links = await tx.select({ sourcedId: rosterLinks.sourcedId }).from(rosterLinks).where(rosterLinksOf(uid));
  const sourcedIds = [...new Set(links.map((l) => l.sourcedId))];
  const who: Identity = {
    id: uid,
    name: user.name,
    givenName: user.givenName,
    familyName: user.familyName,
    literals: [user.email, user.clerkUserId, user.sisId, user.imageUrl, ...sourcedIds].filter((v): v is string => !!v),
  };
  const redact = identityRedactor(who, now);
  const counts: Record<string, number> = {};
  const theirSessions = tx.select({ id: sessions.id }).from(sessions).where(eq(sessions.studentId, uid));
  const theirRuns = tx.select({ id: runs.id }).from(runs).where(eq(runs.userId, uid));
  const theirFindings = or(inArray(extractions.sessionId, theirSessions), inArray(extractions.runId, theirRuns));

  // Notifications about their alerts first: deleting sessions below cascades them away.
  counts.notification_deliveries = await rewriteById(
    (a) =>
      tx
        .select({ id: notificationDeliveries.id, payload: notificationDeliveries.payload })
        .from(notificationDeliveries)
        .where(
          and(inArray(notificationDeliveries.alertId, tx.select({ id: extractions.id }).from(extractions).where(theirFindings)), after(notificationDeliveries.id, a)),
        )
        .orderBy(asc(notificationDeliveries.id))
        .limit(PAGE),
    async (row) => {
      const payload = redact.json(row.payload);
      if (same(payload, row.payload)) return false;
      await tx.update(notificationDeliveries).set({ payload }).where(eq(notificationDeliveries.id, row.id));
      return true;
    },
  );

  if (mode === "delete") {
    counts.submissions = (await tx.delete(submissions).where(eq(submissions.studentId, uid)).returning({ id: submissions.id })).length;
    // Findings and their notifications go with their sessions and runs (cascade); messages with their sessions.
    counts.findings = (await tx.delete(extractions).where(theirFindings).returning({ id: extractions.id })).length;
    counts.messages = (await tx.delete(messages).where(inArray(messages.sessionId, theirSessions)).returning({ id: messages.id })).length;
    counts.runs = (await tx.delete(runs).where(eq(runs.userId, uid)).returning({ id: runs.id })).length;
    counts.sessions = (await tx.delete(sessions).where(eq(sessions.studentId, uid)).returning({ id: sessions.id })).length;
  } else {
    counts.messages = await rewriteById(
      (a) =>
        tx
          .select({ id: messages.id, content: messages.content, meta: messages.meta })
          .from(messages)
          .where(and(inArray(messages.sessionId, theirSessions), after(messages.id, a)))
          .orderBy(asc(messages.id))
          .limit(PAGE),
      async (row) => {
        const content = redact.text(row.content);
        const meta = redact.json(row.meta);
        if (content === row.content && same(meta, row.meta)) return false;
        await tx.update(messages).set({ content, meta }).where(eq(messages.id, row.id));
        return true;
      },
    );
    counts.sessions = await rewriteById(
      (a) =>
        tx
          .select({ id: sessions.id, title: sessions.title, meta: sessions.meta })
          .from(sessions)
          .where(and(eq(sessions.studentId, uid), after(sessions.id, a)))
          .orderBy(asc(sessions.id))
          .limit(PAGE),
      async (row) => {
        // A title is a summary of the student's first words: it goes whole rather than redacted.
        const meta = redact.json(row.meta);
        if (row.title === null && same(meta, row.meta)) return false;
        await tx.update(sessions).set({ title: null, meta }).where(eq(sessions.id, row.id));
        return true;
      },
    );
    counts.runs = await rewriteById(
      (a) =>
        tx
          .select({ id: runs.id, input: runs.input, output: runs.output, meta: runs.meta })
          .from(runs)
          .where(and(eq(runs.userId, uid), after(runs.id, a)))
          .orderBy(asc(runs.id))
          .limit(PAGE),
      async (row) => {
        const input = redact.json(row.input);
        const output = row.output === null ? null : redact.text(row.output);
        const meta = redact.json(row.meta);
        if (same(input, row.input) && output === row.output && same(meta, row.meta)) return false;
        await tx.update(runs).set({ input, output, meta }).where(eq(runs.id, row.id));
        return true;
      },
    );
    counts.submissions = await rewriteById(
      (a) =>
        tx
          .select({ id: submissions.id, feedback: submissions.feedback, grade: submissions.grade })
          .from(submissions)
          .where(and(eq(submissions.studentId, uid), after(submissions.id, a)))
          .orderBy(asc(submissions.id))
          .limit(PAGE),
      async (row) => {
        const feedback = row.feedback === null ? null : redact.text(row.feedback);
        const grade = row.grade === null ? null : redact.literal(row.grade);
        if (feedback === row.feedback && grade === row.grade) return false;
        await tx.update(submissions).set({ feedback, grade }).where(eq(submissions.id, row.id));
        return true;
      },
    );
    counts.findings = await rewriteById(
      (a) =>
        tx
          .select({ id: extractions.id, data: extractions.data })
          .from(extractions)
          .where(and(theirFindings, after(extractions.id, a)))
          .orderBy(asc(extractions.id))
          .limit(PAGE),
      async (row) => {
        const data = redact.json(row.data);
        if (same(data, row.data)) return false;
        await tx.update(extractions).set({ data }).where(eq(extractions.id, row.id));
        return true;
      },
    );
  }

  // Amounts stay so group and class totals and budgets still add up; only the attribution goes.
  counts.ai_usage = (await tx.update(aiUsage).set({ userId: null }).where(eq(aiUsage.userId, uid)).returning({ id: aiUsage.id })).length;
  counts.audit_log = await scrubAudit(tx, uid, theirSessions, who, redact.literal);
  counts.roster_runs = await scrubRosterRuns(tx, sourcedIds, redact.literal);
  counts.roster_links = (await tx.delete(rosterLinks).where(rosterLinksOf(uid)).returning({ id: rosterLinks.sourcedId })).length;
  counts.class_members = (await tx.delete(classMembers).where(eq(classMembers.userId, uid)).returning({ id: classMembers.classId })).length;
  counts.group_members =
    mode === "delete"
      ? (await tx.delete(groupMembers).where(eq(groupMembers.userId, uid)).returning({ id: groupMembers.groupId })).length
      : (
          await tx
            .update(groupMembers)
            .set({ deletedAt: sql`coalesce(${groupMembers.deletedAt}, ${now.toISOString()}::timestamptz)`, clerkMembershipId: null })
            .where(eq(groupMembers.userId, uid))
            .returning({ id: groupMembers.groupId })
        ).length;
  await tx
    .update(users)
    .set({
      clerkUserId: null,
      email: null,
      name: ERASED_USER_NAME,
      givenName: null,
      familyName: null,
      imageUrl: null,
      sisId: null,
      status: "deleted",
      deletedAt: user.deletedAt ?? now,
      erasedAt: now,
    })
    .where(eq(users.id, uid));
  return counts;
}

/**
 * Audit entries stay (the trail of who did what must survive an erasure); identifiers written
 * into their details (an email, a Clerk or SIS id, a sourcedId) are replaced. The entries point at
 * the user row by id, which after erasure names no one.
 */
async function scrubAudit(tx: DbOrTx, uid: string, theirSessions: Parameters<typeof auditConcerning>[1], who: Identity, literal: (s: string) => string): Promise<number> {
  const needles = [who.name, ...who.literals].filter((v): v is string => !!v && v.length >= 3);
  const mentions = needles.map((n) => sql`strpos(${auditLog.details}::text, ${n}) > 0`);
  const where = or(auditConcerning(uid, theirSessions), ...mentions);
  let changed = 0;
  let lastId = 0;
  for (;;) {
    const rows = await tx
      .select({ id: auditLog.id, details: auditLog.details })
      .from(auditLog)
      .where(and(where, gt(auditLog.id, lastId)))
      .orderBy(asc(auditLog.id))
      .limit(PAGE);
    for (const row of rows) {
      const details = mapStrings(row.details, literal) as Record<string, unknown>;
      if (same(details, row.details)) continue;
      await tx.update(auditLog).set({ details }).where(eq(auditLog.id, row.id));
      changed += 1;
    }
    const last = rows[rows.length - 1];
    if (!last || rows.length < PAGE) return changed;
    lastId = last.id;
  }
}

/** A roster run's log of refused records names them by sourcedId. */
async function scrubRosterRuns(tx: DbOrTx, sourcedIds: string[], literal: (s: string) => string): Promise<number> {
  if (sourcedIds.length === 0) return 0;
  const rows = await tx
    .select({ id: rosterRuns.id, rejected: rosterRuns.rejected })
    .from(rosterRuns)
    .where(or(...sourcedIds.map((s) => sql`strpos(${rosterRuns.rejected}::text, ${s}) > 0`)));
  let changed = 0;
  for (const row of rows) {
    const rejected = mapStrings(row.rejected, literal) as typeof row.rejected;
    if (same(rejected, row.rejected)) continue;
    await tx.update(rosterRuns).set({ rejected }).where(eq(rosterRuns.id, row.id));
    changed += 1;
  }
  return changed;
}
