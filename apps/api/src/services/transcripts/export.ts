import { TRANSCRIPT_CSV_COLUMNS, type TranscriptQuery } from "@raptscallions/core";
import { auditLog, groups, messages, sessions } from "@raptscallions/db";
import { stringify } from "csv-stringify/sync";
import { and, asc, eq, gt, or, type SQL } from "drizzle-orm";
import type { MessageDto } from "@raptscallions/core";
import type { ServiceContext } from "../context.ts";
import { auditRow, recordAudit } from "../audit/record.ts";
import { toMessageDto, toSessionDto } from "../sessions/dto.ts";
import { transcriptRedactor } from "./redaction.ts";
import { resolveTranscriptScope, type TranscriptKind, type TranscriptScope } from "./scope.ts";

/** Rows read per query: memory stays flat however many sessions and messages an export covers. */
export const TRANSCRIPT_PAGE = { sessions: 100, messages: 500 };

type SessionRow = typeof sessions.$inferSelect & { groupPath: string };

/** What the encoders are fed, in order: a session, its messages page by page, its end. */
type TranscriptPart =
  | { kind: "session"; session: SessionRow; redacted: boolean }
  | { kind: "messages"; session: SessionRow; redacted: boolean; items: MessageDto[] }
  | { kind: "session-end" };

/**
 * Walks an export's sessions oldest first and their messages in seq order, both by keyset pages,
 * redacting per session and recording each session page's views (`session.view`, as reading it
 * over REST does) before its texts are handed on.
 */
async function* transcriptParts(ctx: ServiceContext, scope: TranscriptScope): AsyncGenerator<TranscriptPart> {
  const redactorFor = transcriptRedactor(ctx);
  let after: { startedAt: Date; id: string } | null = null;
  for (;;) {
    const where: SQL[] = [scope.sessionsWhere];
    if (after) where.push(or(gt(sessions.startedAt, after.startedAt), and(eq(sessions.startedAt, after.startedAt), gt(sessions.id, after.id))) as SQL);
    const page = await ctx.db
      .select({ session: sessions, groupPath: groups.path })
      .from(sessions)
      .innerJoin(groups, eq(groups.id, sessions.groupId))
      .where(and(...where))
      .orderBy(asc(sessions.startedAt), asc(sessions.id))
      .limit(TRANSCRIPT_PAGE.sessions);
    if (page.length === 0) return;
    const views = page
      .filter((r) => r.session.studentId !== ctx.actor.userId)
      .map((r) =>
        auditRow(ctx, {
          action: "session.view",
          targetType: "session",
          targetId: r.session.id,
          groupId: r.session.groupId,
          details: { studentId: r.session.studentId, via: "transcript" },
        }),
      );
    if (views.length > 0) await ctx.db.insert(auditLog).values(views);
    for (const row of page) {
      const session: SessionRow = { ...row.session, groupPath: row.groupPath };
      const redact = await redactorFor({
        ref: { studentId: session.studentId, classId: session.classId, groupPath: session.groupPath },
        groupId: session.groupId,
        toolId: session.toolId,
        toolVersion: session.toolVersion,
        studentId: session.studentId,
      });
      const redacted = redact !== null;
      yield { kind: "session", session, redacted };
      let seq = 0;
      for (;;) {
        const rows = await ctx.db
          .select()
          .from(messages)
          .where(and(eq(messages.sessionId, session.id), gt(messages.seq, seq)))
          .orderBy(asc(messages.seq))
          .limit(TRANSCRIPT_PAGE.messages);
        if (rows.length === 0) break;
        seq = rows[rows.length - 1]?.seq ?? seq;
        const items = rows.map((m) => {
          const dto = toMessageDto(m);
          return redact && m.role !== "assistant" ? { ...dto, content: redact(dto.content) } : dto;
        });
        yield { kind: "messages", session, redacted, items };
        if (rows.length < TRANSCRIPT_PAGE.messages) break;
      }
      yield { kind: "session-end" };
    }
    const last = page[page.length - 1];
    if (!last || page.length < TRANSCRIPT_PAGE.sessions) return;
    after = { startedAt: last.session.startedAt, id: last.session.id };
  }
}

async function* jsonChunks(scope: TranscriptScope, exportedAt: string, parts: AsyncGenerator<TranscriptPart>): AsyncGenerator<string> {
  yield `{"scope":${JSON.stringify({ kind: scope.kind, id: scope.id })},"exportedAt":${JSON.stringify(exportedAt)},"sessions":[`;
  let sessionCount = 0;
  let messageCount = 0;
  for await (const part of parts) {
    if (part.kind === "session") {
      yield `${sessionCount++ > 0 ? "," : ""}{"session":${JSON.stringify(toSessionDto(part.session))},"redacted":${part.redacted},"messages":[`;
      messageCount = 0;
    } else if (part.kind === "messages") {
      yield part.items.map((m) => `${messageCount++ > 0 ? "," : ""}${JSON.stringify(m)}`).join("");
    } else {
      yield "]}";
    }
  }
  yield "]}";
}

async function* csvChunks(parts: AsyncGenerator<TranscriptPart>): AsyncGenerator<string> {
  yield stringify([[...TRANSCRIPT_CSV_COLUMNS]]);
  for await (const part of parts) {
    if (part.kind !== "messages") continue;
    const s = part.session;
    const records = part.items.map((m) => [
      s.id,
      s.studentId,
      s.classId ?? "",
      s.assignmentId ?? "",
      s.toolId,
      s.toolVersion,
      s.state,
      s.startedAt.toISOString(),
      m.id,
      m.seq,
      m.role,
      m.authorId ?? "",
      m.state ?? "",
      m.content,
      m.createdAt,
      part.redacted ? "true" : "false",
    ]);
    // Formulas in a cell run when a spreadsheet opens the file: a text starting with = + - @ is quoted by a leading '.
    yield stringify(records, { cast: { string: neutraliseFormula } });
  }
}

function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** A transcript ready to stream: its content type, a file name and the body. */
export interface TranscriptExport {
  contentType: string;
  fileName: string;
  body: ReadableStream<Uint8Array>;
}

/**
 * Exports a session, a class's or an assignment's transcripts as JSON or CSV (docs/api.md,
 * "Transcripts"). Access is checked and the export audited (`transcript.export`, and a
 * `session.view` per session read) before the stream starts; the body is produced page by page
 * as the client reads it.
 */
export async function exportTranscript({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { kind: TranscriptKind; id: string } & TranscriptQuery;
}): Promise<TranscriptExport> {
  const scope = await resolveTranscriptScope(ctx, input.kind, input.id);
  await recordAudit(ctx.db, ctx, {
    action: "transcript.export",
    targetType: input.kind,
    targetId: input.id,
    groupId: scope.groupId,
    details: { format: input.format },
  });
  const exportedAt = ctx.clock.now().toISOString();
  const parts = transcriptParts(ctx, scope);
  const chunks = input.format === "csv" ? csvChunks(parts) : jsonChunks(scope, exportedAt, parts);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (err) {
        ctx.logger.error("transcript export failed mid-stream", { kind: input.kind, id: input.id, err });
        controller.error(err);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return {
    contentType: input.format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
    fileName: `transcript-${input.kind}-${input.id}.${input.format}`,
    body,
  };
}
