import { createHistoryRedactor, PII_FILTER_ID, type PiiConfig } from "@raptscallions/modules";
import { policy, type SessionRef } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { toolModulesOf } from "../modules/config.ts";
import { loadTurnInputs } from "../modules/turn-inputs.ts";

type Redact = (text: string) => string;

/** The session fields a transcript's redaction depends on. */
export interface RedactionSubject {
  ref: SessionRef;
  groupId: string;
  toolId: string;
  toolVersion: number;
  studentId: string;
}

/**
 * Decides, per session of an export, whether its texts leave redacted, and redacts them with the
 * same PII filter (and settings: group chain, then tool) the live path uses on the way to the
 * provider. What is stored may hold originals (a school's `storeOriginal`); a caller without the
 * right to a student's details gets them redacted whatever was stored. Assistant texts are left as
 * they are: the model only ever saw redacted input.
 *
 * One export reads many sessions of few students: the redactor is built once per student, group
 * and tool version.
 */
export function transcriptRedactor(ctx: ServiceContext) {
  const cache = new Map<string, Redact>();
  return async (s: RedactionSubject): Promise<Redact | null> => {
    if (policy.canExportStudentPii(ctx.actor, s.ref)) return null;
    const key = `${s.studentId}|${s.groupId}|${s.toolId}@${s.toolVersion}`;
    const known = cache.get(key);
    if (known) return known;
    const now = ctx.clock.now();
    const { configs, turn } = await loadTurnInputs(ctx.db, ctx.logger, {
      groupId: s.groupId,
      toolModules: await toolModulesOf(ctx.db, s.toolId, s.toolVersion),
      sessionId: "00000000-0000-0000-0000-000000000000",
      studentId: s.studentId,
      now,
      limit: 0,
    });
    // A group that switched the filter off still gets redacted exports: the settings are kept, the switch is not.
    const config = (configs[PII_FILTER_ID]?.config ?? {}) as Partial<PiiConfig>;
    const redact = createHistoryRedactor({ student: turn.student, now, config });
    cache.set(key, redact);
    return redact;
  };
}
