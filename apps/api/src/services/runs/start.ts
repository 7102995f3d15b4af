import { AppError, ConflictError, type FormField, formFieldSchema, formInputSchema, renderPrompt, type StartRunBody } from "@raptscallions/core";
import { type DbOrTx, runs } from "@raptscallions/db";
import {
  builtInModules,
  createHistoryRedactor,
  type Finding,
  PII_FILTER_ID,
  type PiiConfig,
  runAfterAnswer,
  runBeforeGateway,
  STRUGGLE_DETECTOR_ID,
} from "@raptscallions/modules";
import { z } from "zod";
import { assertAllowed, assertVisible, policy } from "../../access/policy.ts";
import type { Generation } from "../../lib/ai-service.ts";
import { requireVisibleClass } from "../classes/scope.ts";
import type { ServiceContext } from "../context.ts";
import { type FindingTarget, persistFindings, publishFindings } from "../modules/findings.ts";
import { loadTurnInputs } from "../modules/turn-inputs.ts";
import { publish } from "../rooms.ts";
import { loadToolDefinition } from "../sessions/load.ts";
import { requireUsableTool, toolRef } from "../tools/scope.ts";
import { type RunRow, runRoom, toRunDto } from "./dto.ts";
import { runTarget } from "./run-target.ts";

// Modules are keyed by session in the chat path; a run has none, so this id matches no messages.
const NO_SESSION = "00000000-0000-0000-0000-000000000000";

/**
 * Starts a product tool's run (docs/product-tools.md): the inputs are checked against the form
 * of the tool's latest version (which the run is pinned to), put into its prompt template, passed
 * through the modules (safety may refuse, PII is redacted on the way to the provider), admitted by
 * the gateway (limits, budgets: 429 with nothing streamed), then streamed by this instance's
 * runner into the run's room and row.
 */
export async function startRun({ ctx, input }: { ctx: ServiceContext; input: StartRunBody }) {
  const found = await requireUsableTool(ctx, input.toolId);
  const { tool } = found;
  if (tool.kind !== "product")
    throw new AppError("VALIDATION_FAILED", "Only product tools have runs", { details: [{ path: "toolId", message: "Not a product tool", code: "custom" }] });
  if (tool.archivedAt) throw new ConflictError("This tool is archived");
  let groupId = tool.groupId;
  let classId: string | null = null;
  if (input.classId) {
    const { cls, groupPath } = await requireVisibleClass(ctx, input.classId);
    assertVisible(policy.canViewClass(ctx.actor, { id: cls.id, groupPath }), "Class");
    assertAllowed(policy.isToolUsableInGroup(toolRef(found), groupPath), "This tool is not available to this class");
    if (cls.archivedAt) throw new ConflictError("This class is archived");
    groupId = cls.groupId;
    classId = cls.id;
  }
  const version = await loadToolDefinition(ctx.db, tool.id, tool.latestVersion);
  const definition = version.definition;
  const form = z.array(formFieldSchema).safeParse(definition.form);
  if (!form.success || typeof definition.promptTemplate !== "string") throw new AppError("VALIDATION_FAILED", "This tool version has no usable form");
  const parsed = formInputSchema(form.data).safeParse(input.input);
  if (!parsed.success) {
    throw new AppError("VALIDATION_FAILED", "The form's inputs are invalid", {
      details: parsed.error.issues.map((i) => ({ path: ["input", ...i.path.map(String)].join("."), message: i.message, code: i.code })),
    });
  }
  const values = parsed.data as Record<string, unknown>;

  const now = ctx.clock.now();
  const { configs, turn } = await loadTurnInputs(ctx.db, ctx.logger, {
    groupId,
    toolModules: definition.modules,
    sessionId: NO_SESSION,
    studentId: ctx.actor.userId,
    now,
    limit: 0,
  });
  const gated = runBeforeGateway(builtInModules, configs, turn, renderPrompt(definition.promptTemplate, values));
  const blocked = gated.action === "block";
  if (!blocked) {
    ctx.runner.assertAccepting();
    ctx.ai.assertAvailable();
  }
  const stored = storedInputs(form.data, values, configs[PII_FILTER_ID], turn, now);
  const subject = (runId: string): FindingTarget => ({ sessionId: null, runId, classId, groupId, studentId: ctx.actor.userId, messageId: null });
  // Struggle is a trend across a session's turns: one form says nothing about it.
  const inputFindings = runFindings(gated.findings);
  // A refused run with alerts is kept (failed, nothing streamed) so its alerts have a subject the
  // teacher can open; a refusal without any, like a form error, leaves nothing behind.
  if (blocked && !inputFindings.some((f) => f.isAlert)) throw refused(gated.reply);

  const redacted = gated.textToStore !== gated.originalText ? { redacted: true } : {};
  const insertRun = async (db: DbOrTx) => {
    const [inserted] = await db
      .insert(runs)
      .values({
        toolId: tool.id,
        toolVersion: version.version,
        userId: ctx.actor.userId,
        groupId,
        classId,
        input: stored,
        output: "",
        state: blocked ? "failed" : "running",
        streamOwner: blocked ? null : ctx.instanceId,
        heartbeatAt: now,
        meta: blocked ? { ...redacted, error: { code: "VALIDATION_FAILED", message: "Refused by the safety settings" } } : redacted,
        createdAt: now,
        finishedAt: blocked ? now : null,
      })
      .returning();
    if (!inserted) throw new AppError("INTERNAL", "insert returned nothing");
    return inserted;
  };
  // The inputs' findings (and their alerts' notifications) commit with the run, or not at all;
  // without findings the run is one statement.
  const { row, findings } =
    inputFindings.length === 0
      ? { row: await insertRun(ctx.db), findings: [] }
      : await ctx.db.transaction(async (tx) => {
          const inserted = await insertRun(tx);
          return { row: inserted, findings: await persistFindings(tx, subject(inserted.id), inputFindings, now) };
        });
  await publishFindings(ctx.bus, ctx.logger, subject(row.id), findings).catch((err: unknown) => ctx.logger.warn("publishing findings failed", { runId: row.id, err }));
  if (blocked) throw refused(gated.reply);

  let epoch: string | null = null;
  let offset: number | null = null;
  try {
    const started = await publish(ctx.bus, runRoom(row.id), "run.started", { run: toRunDto(row) });
    epoch = started.epoch;
    offset = started.offset;
  } catch (err) {
    ctx.logger.warn("publish failed", { room: runRoom(row.id), err });
  }
  const target = runTarget(
    {
      db: ctx.db,
      bus: ctx.bus,
      logger: ctx.logger,
      // The output is checked as an answer is (what was shown cannot be unshown: findings alert, never block).
      afterRun: async (done: RunRow) => {
        if ((done.output ?? "").trim() === "") return;
        const found = runFindings(runAfterAnswer(builtInModules, configs, turn, done.output ?? ""));
        const rows = await persistFindings(ctx.db, subject(done.id), found, ctx.clock.now());
        await publishFindings(ctx.bus, ctx.logger, subject(done.id), rows);
      },
    },
    { id: row.id, classId, epoch, offset },
  );
  const abort = new AbortController();
  let generation: Generation;
  try {
    generation = await ctx.ai.start({
      signal: abort.signal,
      scope: {
        userId: ctx.actor.userId,
        groupId,
        classId,
        toolId: tool.id,
        toolVersion: version.version,
        sessionId: null,
        assignmentId: null,
        runId: row.id,
        messageId: null,
      },
      definition,
      // Only the redacted prompt ever reaches the provider.
      messages: [{ role: "user", content: gated.text }],
    });
  } catch (err) {
    const error =
      err instanceof AppError
        ? { code: err.code, message: err.message, retryAfterSeconds: err.retryAfterSeconds }
        : { code: "UPSTREAM_ERROR", message: "The AI service failed" };
    await target.finalize("failed", "", { error }, ctx.clock.now());
    throw err;
  }
  ctx.runner.startTarget(target, { generation, abort });
  return { run: toRunDto(row), room: { name: runRoom(row.id), epoch, offset: offset ?? 0 } };
}

/** Text inputs are kept redacted unless the school keeps originals (`pii-filter.storeOriginal`), as chat messages are. */
function storedInputs(
  form: FormField[],
  values: Record<string, unknown>,
  pii: { enabled: boolean; config: unknown } | undefined,
  turn: { student: Parameters<typeof createHistoryRedactor>[0]["student"] },
  now: Date,
): Record<string, unknown> {
  const config = (pii?.config ?? {}) as Partial<PiiConfig>;
  if (!pii?.enabled || config.storeOriginal) return values;
  const redact = createHistoryRedactor({ student: turn.student, now, config });
  const out: Record<string, unknown> = { ...values };
  for (const f of form) {
    const v = values[f.name];
    if (f.type === "text" && typeof v === "string") out[f.name] = redact(v);
  }
  return out;
}

function runFindings(findings: Finding[]): Finding[] {
  return findings.filter((f) => f.module !== STRUGGLE_DETECTOR_ID);
}

function refused(reply: string | undefined) {
  return new AppError("VALIDATION_FAILED", "The school's safety settings refuse these inputs", {
    details: [{ path: "input", message: reply ?? "Refused by the safety settings", code: "blocked" }],
  });
}
