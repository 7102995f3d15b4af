import { type Db, extractions, messages } from "@raptscallions/db";
import { buildSummaryPrompt, type SummaryFacts, type SummaryTurn } from "@raptscallions/gateway";
import { createHistoryRedactor, PII_FILTER_ID, type PiiConfig, STRUGGLE_DETECTOR_ID } from "@raptscallions/modules";
import { and, desc, eq, lte, sql } from "drizzle-orm";
import type { Logger } from "../../lib/logger.ts";
import { isWithheld } from "../sessions/withheld.ts";
import { toolModulesOf } from "../modules/config.ts";
import { loadTurnInputs } from "../modules/turn-inputs.ts";

/** The session a summary is about. */
export interface SummarySession {
  id: string;
  studentId: string;
  classId: string | null;
  groupId: string;
  toolId: string;
  toolVersion: number;
}

/** What the model is given: the prompt, and what it was built from (for the stored row). */
export interface SummaryInput {
  prompt: string;
  facts: SummaryFacts;
  turns: number;
}

// The newest turns are kept when a session is long: a teacher wants where the student ended up.
const MAX_TURNS = 200;
const MAX_TURN_CHARS = 1_000;
const MAX_TRANSCRIPT_CHARS = 12_000;
const SPEAKERS = { user: "Student", assistant: "Tutor", teacher: "Teacher" } as const;

/**
 * Builds the summary request from the stored session up to `upToSeq`. Every turn — the student's,
 * the tutor's and the teacher's — goes through the PII module's redaction with the group's
 * settings (the defaults where a group turned the module off), so the provider sees the
 * redacted transcript only, whatever the school stores. Turns the module gate withheld from the
 * provider (blocked, held) stay withheld here too; the alerts they raised are listed by category.
 */
export async function loadSummaryInput(db: Db, logger: Logger, session: SummarySession, upToSeq: number, now: Date): Promise<SummaryInput> {
  const { configs, turn } = await loadTurnInputs(db, logger, {
    groupId: session.groupId,
    toolModules: await toolModulesOf(db, session.toolId, session.toolVersion),
    sessionId: session.id,
    studentId: session.studentId,
    now,
    limit: 1,
  });
  const pii = configs[PII_FILTER_ID];
  const redact = createHistoryRedactor({ student: turn.student, now, config: pii?.enabled ? (pii.config as PiiConfig) : undefined });

  const rows = await db
    .select({ role: messages.role, content: messages.content, state: messages.state, meta: messages.meta })
    .from(messages)
    .where(and(eq(messages.sessionId, session.id), lte(messages.seq, upToSeq)))
    .orderBy(desc(messages.seq))
    .limit(MAX_TURNS);
  const turns: SummaryTurn[] = [];
  let chars = 0;
  let omitted = 0;
  for (const row of rows) {
    if (row.role === "system" || row.content.trim() === "" || isWithheld(row.meta)) continue;
    if (row.role === "assistant" && row.state !== "complete" && row.state !== "stopped" && row.state !== "interrupted") continue;
    const text = redact(row.content.slice(0, MAX_TURN_CHARS));
    if (chars + text.length > MAX_TRANSCRIPT_CHARS) {
      omitted += 1;
      continue;
    }
    chars += text.length;
    turns.push({ speaker: SPEAKERS[row.role], text });
  }
  turns.reverse();

  const facts: SummaryFacts = { ...(await loadFacts(db, session.id)), omittedTurns: omitted };
  return { prompt: buildSummaryPrompt(turns, facts), facts, turns: turns.length };
}

/** The struggle module's latest signal and the session's alerts, by category and severity (no text). */
async function loadFacts(db: Db, sessionId: string): Promise<Omit<SummaryFacts, "omittedTurns">> {
  const [latest] = await db
    .select({ data: extractions.data })
    .from(extractions)
    .where(and(eq(extractions.sessionId, sessionId), eq(extractions.module, STRUGGLE_DETECTOR_ID)))
    .orderBy(desc(extractions.createdAt))
    .limit(1);
  const level = latest?.data.level;
  const reasons: unknown[] = Array.isArray(latest?.data.reasons) ? latest.data.reasons : [];
  const details = reasons.flatMap((r) => (r && typeof r === "object" && "detail" in r && typeof r.detail === "string" ? [r.detail] : []));
  const struggle: SummaryFacts["struggle"] = level === "mild" || level === "struggling" || level === "none" ? { level, reasons: details } : null;
  const alerts = await db
    .select({ category: extractions.kind, severity: extractions.severity, count: sql<number>`count(*)::int` })
    .from(extractions)
    .where(
      and(
        eq(extractions.sessionId, sessionId),
        eq(extractions.isAlert, true),
        // The struggle signal is reported above; a moderation outage says nothing about the student.
        sql`${extractions.module} <> ${STRUGGLE_DETECTOR_ID}`,
        sql`${extractions.kind} <> 'moderation-unavailable'`,
      ),
    )
    .groupBy(extractions.kind, extractions.severity)
    .orderBy(sql`min(${extractions.createdAt})`);
  return { struggle, alerts };
}
