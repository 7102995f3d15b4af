import { type Db, groups, messages, preparedOn, users } from "@raptscallions/db";
import type { ModuleConfigLayer, ResolvedModuleConfigs, TurnContext } from "@raptscallions/modules";
import { sql } from "drizzle-orm";
import type { Logger } from "../../lib/logger.ts";
import { type QueryKey, qualified } from "../query-helpers.ts";
import { layersOf, resolveLayers } from "./config.ts";
import { RECENT_STUDENT_MESSAGES } from "./turn-context.ts";

/** What the modules need for a turn: their configs (system → groups → tool) and the turn context. */
export interface TurnInputs {
  configs: ResolvedModuleConfigs;
  turn: TurnContext;
}

/** The raw values {@link turnInputFields} select, before the configs are resolved. */
export interface TurnInputsRow {
  chain: { id: string; modules: unknown }[] | null;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  messages: { text: string; at: string }[] | null;
}

/**
 * The group chain's module settings, the student's names and their latest messages in the
 * session, as columns of a select keyed by the given expressions (placeholders, or another
 * table's columns: a chat turn reads them in the statement that loads its session).
 */
export function turnInputFields(byKey: { sessionId: QueryKey; groupId: QueryKey; studentId: QueryKey; limit: QueryKey }) {
  const keys = qualified(byKey);
  return {
    chain: sql<TurnInputsRow["chain"]>`(select json_agg(json_build_object('id', g.id, 'modules', g.settings->'modules') order by nlevel(g.path))
      from ${groups} g where g.path @> (select t.path from ${groups} t where t.id = ${keys.groupId}))`,
    name: sql<string | null>`(select u.name from ${users} u where u.id = ${keys.studentId})`,
    givenName: sql<string | null>`(select u.given_name from ${users} u where u.id = ${keys.studentId})`,
    familyName: sql<string | null>`(select u.family_name from ${users} u where u.id = ${keys.studentId})`,
    messages: sql<TurnInputsRow["messages"]>`(select json_agg(json_build_object('text', r.content, 'at', r.created_at) order by r.seq)
      from (select m.content, m.created_at, m.seq from ${messages} m where m.session_id = ${keys.sessionId} and m.role = 'user'
            order by m.seq desc limit ${keys.limit}) r)`,
  };
}

// Built once per database and run as a prepared query, so the SQL text is not rebuilt on every turn.
function buildStatement(db: Db) {
  return db
    .select(
      turnInputFields({
        sessionId: sql.placeholder("sessionId"),
        groupId: sql.placeholder("groupId"),
        studentId: sql.placeholder("studentId"),
        limit: sql.placeholder("limit"),
      }),
    )
    .from(sql`(select 1) as one`)
    .prepare("module_turn_inputs");
}

type TurnInputsKeys = { groupId: string; toolModules: unknown; system?: ModuleConfigLayer | undefined; sessionId: string; studentId: string; now: Date };

/**
 * Loads and resolves the module configs of a session's group and tool, and the turn context (the
 * student and their latest messages, oldest first; called before the current message is stored,
 * so it is never among them). One statement.
 */
export async function loadTurnInputs(db: Db, logger: Logger, input: TurnInputsKeys & { limit?: number }): Promise<TurnInputs> {
  const [row] = await preparedOn(db, "module_turn_inputs", buildStatement).execute({
    sessionId: input.sessionId,
    studentId: input.studentId,
    groupId: input.groupId,
    limit: input.limit ?? RECENT_STUDENT_MESSAGES,
  });
  return turnInputsOf(row, input, logger);
}

/** {@link loadTurnInputs} from values already read with {@link turnInputFields}. */
export function turnInputsOf(row: TurnInputsRow | undefined, input: TurnInputsKeys, logger: Logger): TurnInputs {
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
