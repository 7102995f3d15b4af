import { type Db, groups, messages, preparedOn, users } from "@raptscallions/db";
import type { ModuleConfigLayer, ResolvedModuleConfigs, TurnContext } from "@raptscallions/modules";
import { and, desc, eq, sql } from "drizzle-orm";
import type { Logger } from "../../lib/logger.ts";
import { layersOf, resolveLayers } from "./config.ts";
import { RECENT_STUDENT_MESSAGES } from "./turn-context.ts";

/** What the modules need for a turn: their configs (system → groups → tool) and the turn context. */
export interface TurnInputs {
  configs: ResolvedModuleConfigs;
  turn: TurnContext;
}

// One statement for the group chain's module settings, the student's names and their recent
// messages in the session. Built once per database and run as a prepared query, so the SQL text
// is not rebuilt on every turn.
function buildStatement(db: Db) {
  const recent = db
    .select({ content: messages.content, createdAt: messages.createdAt, seq: messages.seq })
    .from(messages)
    .where(and(eq(messages.sessionId, sql.placeholder("sessionId")), eq(messages.role, "user")))
    .orderBy(desc(messages.seq))
    .limit(sql.placeholder("limit"))
    .as("recent");
  const studentId = sql.placeholder("studentId");
  return db
    .select({
      chain: sql<{ id: string; modules: unknown }[] | null>`(select json_agg(json_build_object('id', g.id, 'modules', g.settings->'modules') order by nlevel(g.path))
        from ${groups} g where g.path @> (select t.path from ${groups} t where t.id = ${sql.placeholder("groupId")}))`,
      name: sql<string | null>`(select ${users.name} from ${users} where ${users.id} = ${studentId})`,
      givenName: sql<string | null>`(select ${users.givenName} from ${users} where ${users.id} = ${studentId})`,
      familyName: sql<string | null>`(select ${users.familyName} from ${users} where ${users.id} = ${studentId})`,
      messages: sql<
        { text: string; at: string }[] | null
      >`(select json_agg(json_build_object('text', ${recent.content}, 'at', ${recent.createdAt}) order by ${recent.seq}) from ${recent})`,
    })
    .from(sql`(select 1) as one`)
    .prepare("module_turn_inputs");
}

/**
 * Loads and resolves the module configs of a session's group and tool, and the turn context (the
 * student and their latest messages, oldest first; called before the current message is stored,
 * so it is never among them). One statement.
 */
export async function loadTurnInputs(
  db: Db,
  logger: Logger,
  input: { groupId: string; toolModules: unknown; system?: ModuleConfigLayer | undefined; sessionId: string; studentId: string; now: Date; limit?: number },
): Promise<TurnInputs> {
  const [row] = await preparedOn(db, "module_turn_inputs", buildStatement).execute({
    sessionId: input.sessionId,
    studentId: input.studentId,
    groupId: input.groupId,
    limit: input.limit ?? RECENT_STUDENT_MESSAGES,
  });
  const chain = (row?.chain ?? []).map((g) => ({ id: g.id, settings: { modules: g.modules ?? undefined } }));
  return {
    configs: resolveLayers(layersOf(chain, input), logger),
    turn: {
      sessionId: input.sessionId,
      student: {
        id: input.studentId,
        displayName: row?.name ?? undefined,
        givenName: row?.givenName ?? undefined,
        familyName: row?.familyName ?? undefined,
      },
      recentStudentMessages: (row?.messages ?? []).map((m) => ({ text: m.text, at: new Date(m.at) })),
      now: input.now,
    },
  };
}
