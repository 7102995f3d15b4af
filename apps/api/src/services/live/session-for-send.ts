import { type Db, type DbOrTx, groups, messages, preparedOn, sessions, toolVersions } from "@raptscallions/db";
import { eq, sql } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import type { AiPlanRows } from "../../lib/ai-service.ts";
import { aiPlanFields } from "../ai/load-plan.ts";
import { RECENT_STUDENT_MESSAGES } from "../modules/turn-context.ts";
import { type TurnInputsRow, turnInputFields } from "../modules/turn-inputs.ts";
import { visibleSession } from "../sessions/load.ts";
import { type HistoryRow, newestHistoryField } from "./conversation.ts";

/**
 * The first read of a chat turn, one statement: the session (404 unless visible to the actor),
 * the id of its message with `clientMessageId` (null when there is none: the idempotency check),
 * what the content modules read for the turn (the group chain's module settings, the student's
 * names and latest messages), so the gate does not read them again, and the newest rows of the
 * provider history through the session's last seq (`conversationAfter` completes them with the
 * turn's own message), and the AI plan's settings chain and catalogue rows (`aiPlanFields`), so
 * the AI service does not read them again.
 */
export async function loadSessionForSend(db: DbOrTx, actor: Actor, sessionId: string, clientMessageId: string, opts: { defaultModel?: string | undefined } = {}) {
  const [row] = await preparedOn(db, "session_for_send", prepareSessionForSend).execute({
    sessionId,
    clientMessageId,
    limit: RECENT_STUDENT_MESSAGES,
    defaultModel: opts.defaultModel ?? null,
  });
  const turnInputs: TurnInputsRow | undefined = row?.turnInputs;
  const history: { rows: HistoryRow[]; throughSeq: number } | undefined = row ? { rows: row.history ?? [], throughSeq: row.session.lastSeq } : undefined;
  const aiPlanRows: AiPlanRows | undefined = row?.aiPlan ?? undefined;
  return { session: visibleSession(actor, row), existingMessageId: row?.existingMessageId ?? null, turnInputs, history, aiPlanRows };
}

// The models the session's tool version names (its model and fallbacks, strings only) and the
// environment default, as a jsonb array: what the AI plan's catalogue read looks for. The AI
// service checks that these cover the definition it plans with before using the rows.
const namedModels = sql`(select coalesce(jsonb_agg(n.id), '[]'::jsonb) from (
    select tv.definition->>'model' as id from ${toolVersions} tv
      where tv.tool_id = ${sessions.toolId} and tv.version = ${sessions.toolVersion} and jsonb_typeof(tv.definition->'model') = 'string'
    union all
    select f #>> '{}' from ${toolVersions} tv,
      jsonb_array_elements(case when jsonb_typeof(tv.definition->'fallbackModels') = 'array' then tv.definition->'fallbackModels' else '[]'::jsonb end) f
      where tv.tool_id = ${sessions.toolId} and tv.version = ${sessions.toolVersion} and jsonb_typeof(f) = 'string'
    union all
    select ${sql.placeholder("defaultModel")}::text where ${sql.placeholder("defaultModel")}::text is not null) n)`;

// Every chat turn starts here: prepared once per database.
function prepareSessionForSend(db: Db) {
  return db
    .select({
      session: sessions,
      groupPath: groups.path,
      existingMessageId: sql<
        string | null
      >`(select ${messages.id} from ${messages} where ${messages.sessionId} = ${sessions.id} and ${messages.clientMessageId} = ${sql.placeholder("clientMessageId")})`,
      turnInputs: turnInputFields({ sessionId: sessions.id, groupId: sessions.groupId, studentId: sessions.studentId, limit: sql.placeholder("limit") }),
      history: newestHistoryField({ sessionId: sessions.id, throughSeq: sessions.lastSeq }),
      aiPlan: aiPlanFields({ groupId: sessions.groupId, named: namedModels }),
    })
    .from(sessions)
    .innerJoin(groups, eq(groups.id, sessions.groupId))
    .where(eq(sessions.id, sql.placeholder("sessionId")))
    .prepare("session_for_send");
}
