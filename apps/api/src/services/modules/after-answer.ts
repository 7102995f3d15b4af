import type { Bus } from "@raptscallions/bus";
import { type Db, type DbOrTx, sessions } from "@raptscallions/db";
import { builtInModules, type ContentModule, type ModuleConfigLayer, type ResolvedModuleConfigs, runAfterAnswer, type TurnContext } from "@raptscallions/modules";
import { eq } from "drizzle-orm";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { FinishedAnswer } from "./hooks.ts";
import { toolModulesOf } from "./config.ts";
import { persistFindings, publishFindings } from "./findings.ts";
import { loadTurnInputs } from "./turn-inputs.ts";

export interface AnswerHookDeps {
  db: Db;
  bus: Bus;
  logger: Logger;
  clock: Clock;
  modules?: readonly ContentModule[];
  system?: ModuleConfigLayer | undefined;
}

/**
 * The runner's `onAnswerFinished`: checks every answer the student saw (complete, or stopped or
 * interrupted part-way — the text so far was shown) and stores and publishes what the modules
 * find. An answer cannot be unsaid, so findings here alert; they never block.
 */
export function createAnswerHook(deps: AnswerHookDeps): (answer: FinishedAnswer) => Promise<void> {
  const modules = deps.modules ?? builtInModules;
  return async (answer) => {
    if (answer.content.trim() === "") return;
    const [session] = await deps.db.select().from(sessions).where(eq(sessions.id, answer.sessionId));
    if (!session) return;
    const now = deps.clock.now();
    const { configs, turn } = await loadTurnInputs(deps.db, deps.logger, {
      groupId: session.groupId,
      toolModules: await toolModulesOf(deps.db, session.toolId, session.toolVersion),
      system: deps.system,
      sessionId: session.id,
      studentId: session.studentId,
      now,
    });
    await checkAnswer({ ...deps, modules }, { configs, turn, session }, answer);
  };
}

/** What a turn's modules were resolved to, kept to check its answer without loading it all again. */
export interface AnswerCheckContext {
  configs: ResolvedModuleConfigs;
  turn: TurnContext;
  session: { id: string; classId: string | null; groupId: string; studentId: string };
}

/** Runs the modules' answer checks and stores and publishes what they find. */
export async function checkAnswer(
  deps: { db: DbOrTx; bus: Bus; logger: Logger; modules: readonly ContentModule[] },
  context: AnswerCheckContext,
  answer: FinishedAnswer,
): Promise<void> {
  if (answer.content.trim() === "") return;
  const findings = runAfterAnswer(deps.modules, context.configs, context.turn, answer.content);
  if (findings.length === 0) return;
  const { session } = context;
  const target = { sessionId: session.id, classId: session.classId, groupId: session.groupId, studentId: session.studentId, messageId: answer.messageId };
  const rows = await persistFindings(deps.db, target, findings, context.turn.now);
  await publishFindings(deps.bus, deps.logger, target, rows);
}
