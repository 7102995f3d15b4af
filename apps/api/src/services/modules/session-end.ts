import { builtInModules, type ContentModule, type ModuleConfigLayer, runOnSessionEnd } from "@raptscallions/modules";
import type { ServiceContext } from "../context.ts";
import { toolModulesOf } from "./config.ts";
import { persistFindings, publishFindings } from "./findings.ts";
import { SESSION_END_STUDENT_MESSAGES } from "./turn-context.ts";
import { loadTurnInputs } from "./turn-inputs.ts";

/** The session that just ended, as `changeSessionState` has it. */
export interface EndedSession {
  id: string;
  classId: string | null;
  groupId: string;
  studentId: string;
  toolId: string;
  toolVersion: number;
}

/**
 * Runs the modules' `onSessionEnd` (e.g. the final struggle signal) over the whole session and
 * stores and publishes the findings. Best effort: ending a session never fails because of it.
 */
export async function runSessionEndModules(
  ctx: Pick<ServiceContext, "db" | "bus" | "logger" | "clock">,
  session: EndedSession,
  options: { modules?: readonly ContentModule[]; system?: ModuleConfigLayer | undefined } = {},
): Promise<void> {
  try {
    const now = ctx.clock.now();
    const { configs, turn } = await loadTurnInputs(ctx.db, ctx.logger, {
      groupId: session.groupId,
      toolModules: await toolModulesOf(ctx.db, session.toolId, session.toolVersion),
      system: options.system,
      sessionId: session.id,
      studentId: session.studentId,
      now,
      limit: SESSION_END_STUDENT_MESSAGES,
    });
    const findings = runOnSessionEnd(options.modules ?? builtInModules, configs, turn);
    const target = { sessionId: session.id, classId: session.classId, groupId: session.groupId, studentId: session.studentId, messageId: null };
    const rows = await persistFindings(ctx.db, target, findings, now);
    await publishFindings(ctx.bus, ctx.logger, target, rows);
  } catch (err) {
    ctx.logger.error("session-end modules failed", { sessionId: session.id, err });
  }
}
