import type { Bus } from "@raptscallions/bus";
import { type Db, sessions } from "@raptscallions/db";
import { builtInModules, type ContentModule, type ModuleConfigLayer, runAfterAnswer } from "@raptscallions/modules";
import { eq } from "drizzle-orm";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { FinishedAnswer } from "./hooks.ts";
import { resolveSessionModules, toolModulesOf } from "./config.ts";
import { persistFindings, publishFindings } from "./findings.ts";
import { loadTurnContext } from "./turn-context.ts";

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
    const [configs, turn] = await Promise.all([
      resolveSessionModules(deps.db, deps.logger, {
        groupId: session.groupId,
        toolModules: await toolModulesOf(deps.db, session.toolId, session.toolVersion),
        system: deps.system,
      }),
      loadTurnContext(deps.db, { sessionId: session.id, studentId: session.studentId, now }),
    ]);
    const findings = runAfterAnswer(modules, configs, turn, answer.content);
    if (findings.length === 0) return;
    const target = {
      sessionId: session.id,
      classId: session.classId,
      groupId: session.groupId,
      studentId: session.studentId,
      messageId: answer.messageId,
    };
    const rows = await persistFindings(deps.db, target, findings, now);
    await publishFindings(deps.bus, deps.logger, target, rows);
  };
}
