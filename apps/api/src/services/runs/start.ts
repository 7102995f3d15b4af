import { AppError, ConflictError, type FormField, formFieldSchema, formInputSchema, renderPrompt, type StartRunBody } from "@raptscallions/core";
import { runs } from "@raptscallions/db";
import { builtInModules, createHistoryRedactor, PII_FILTER_ID, type PiiConfig, runAfterAnswer, runBeforeGateway } from "@raptscallions/modules";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { assertAllowed, assertVisible, policy } from "../../access/policy.ts";
import type { Generation } from "../../lib/ai-service.ts";
import { requireVisibleClass } from "../classes/scope.ts";
import type { ServiceContext } from "../context.ts";
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
  if (gated.action === "block") {
    throw new AppError("VALIDATION_FAILED", "The school's safety settings refuse these inputs", {
      details: [{ path: "input", message: gated.reply ?? "Refused by the safety settings", code: "blocked" }],
    });
  }
  ctx.runner.assertAccepting();
  ctx.ai.assertAvailable();
  const stored = storedInputs(form.data, values, configs[PII_FILTER_ID], turn, now);

  const [row] = await ctx.db
    .insert(runs)
    .values({
      toolId: tool.id,
      toolVersion: version.version,
      userId: ctx.actor.userId,
      groupId,
      classId,
      input: stored,
      output: "",
      state: "running",
      streamOwner: ctx.instanceId,
      heartbeatAt: now,
      meta: gated.textToStore !== gated.originalText ? { redacted: true } : {},
      createdAt: now,
    })
    .returning();
  if (!row) throw new AppError("INTERNAL", "insert returned nothing");

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
      // The output is checked as an answer is: findings are kept on the run (it has no session to alert in).
      afterRun: async (done: RunRow) => {
        const findings = runAfterAnswer(builtInModules, configs, turn, done.output ?? "");
        if (findings.length === 0) return;
        const kept = findings.map((f) => ({ module: f.module, kind: f.kind, severity: f.severity, isAlert: f.isAlert }));
        await ctx.db
          .update(runs)
          .set({ meta: { ...done.meta, findings: kept } })
          .where(eqId(done.id));
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

function eqId(id: string) {
  return eq(runs.id, id);
}
