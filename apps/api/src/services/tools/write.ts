import {
  AppError,
  ConflictError,
  type CreateToolBody,
  type CreateToolVersionBody,
  NotFoundError,
  productFormSchema,
  type ToolDefinitionInput,
  type ToolDetailDto,
  type ToolDto,
} from "@raptscallions/core";
import { type DbOrTx, type ToolDefinition, toolVersions, tools } from "@raptscallions/db";
import { eq, sql } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import { requireActiveModel } from "../ai/require-model.ts";
import { recordAudit } from "../audit/record.ts";
import type { ServiceContext } from "../context.ts";
import { assertValidModuleSettings } from "../module-settings.ts";
import { requireVisibleGroup } from "../groups/scope.ts";
import { requireUsableTool, toolRef, toToolDto, toToolVersionDto } from "./scope.ts";

async function checkDefinition(tx: DbOrTx, def: ToolDefinitionInput, kind: "chat" | "product"): Promise<ToolDefinition> {
  assertFormFitsKind(def, kind);
  if (def.model) await requireActiveModel(tx, def.model, "definition.model");
  const { modules, ...rest } = def;
  if (!modules) return rest;
  // Stored in the long form so readers of tool_versions see one shape: `true` → `{ enabled: true }`.
  const expanded = Object.fromEntries(Object.entries(modules).map(([id, cfg]) => [id, typeof cfg === "boolean" ? { enabled: cfg } : cfg]));
  // Refused now (422) rather than skipped on every chat turn later: unknown modules, bad keys.
  assertValidModuleSettings(expanded);
  return { ...rest, modules: expanded };
}

/**
 * A product tool declares its form and prompt template (the template naming only declared
 * fields); a chat tool declares neither. Refused as 422 with the offending paths.
 */
function assertFormFitsKind(def: ToolDefinitionInput, kind: "chat" | "product") {
  if (kind === "chat") {
    if (def.form !== undefined || def.promptTemplate !== undefined) {
      throw new AppError("VALIDATION_FAILED", "Only product tools have a form and a prompt template", {
        details: [{ path: `definition.${def.form !== undefined ? "form" : "promptTemplate"}`, message: "Not allowed on a chat tool", code: "custom" }],
      });
    }
    return;
  }
  const parsed = productFormSchema.safeParse({ form: def.form, promptTemplate: def.promptTemplate });
  if (!parsed.success) {
    throw new AppError("VALIDATION_FAILED", "A product tool needs a valid form and prompt template", {
      details: parsed.error.issues.map((i) => ({ path: ["definition", ...i.path.map(String)].join("."), message: i.message, code: i.code })),
    });
  }
}

/** A tool and its version 1. */
export async function createTool({ ctx, input }: { ctx: ServiceContext; input: CreateToolBody }): Promise<ToolDetailDto> {
  return ctx.db.transaction(async (tx) => {
    const group = await requireVisibleGroup({ db: tx, actor: ctx.actor }, input.groupId);
    assertAllowed(policy.canCreateToolIn(ctx.actor, group), "Only admins and teachers of this group may create tools in it");
    const definition = await checkDefinition(tx, input.definition, input.kind);
    const [tool] = await tx.insert(tools).values({ groupId: group.id, kind: input.kind, name: input.name, latestVersion: 1, createdBy: ctx.actor.userId }).returning();
    if (!tool) throw new Error("insert returned no row");
    const [version] = await tx.insert(toolVersions).values({ toolId: tool.id, version: 1, name: tool.name, definition, createdBy: ctx.actor.userId }).returning();
    if (!version) throw new Error("insert returned no row");
    await recordAudit(tx, ctx, {
      action: "tool.create",
      targetType: "tool",
      targetId: tool.id,
      groupId: group.id,
      details: { name: tool.name, kind: tool.kind, version: 1 },
    });
    return { ...toToolDto(tool), latest: toToolVersionDto(version, true) };
  });
}

async function managedTool(ctx: ServiceContext, tx: DbOrTx, id: string) {
  const found = await requireUsableTool({ db: tx, actor: ctx.actor }, id);
  assertAllowed(policy.canManageTool(ctx.actor, toolRef(found)), "Only the tool's author and admins over its group may change it");
  return found;
}

/**
 * Appends an immutable version. Versions are never updated in place, so assignments and
 * sessions pinned to an older one keep exactly what they were given.
 */
export async function createToolVersion({ ctx, input }: { ctx: ServiceContext; input: { id: string; body: CreateToolVersionBody } }): Promise<ToolDetailDto> {
  return ctx.db.transaction(async (tx) => {
    const { tool } = await managedTool(ctx, tx, input.id);
    if (tool.archivedAt) throw new ConflictError("This tool is archived");
    const definition = await checkDefinition(tx, input.body.definition, tool.kind);
    // Bumping the counter first takes the tool's row lock, so concurrent authors get 2 and 3, never 2 twice.
    const [bumped] = await tx
      .update(tools)
      .set({ latestVersion: sql`${tools.latestVersion} + 1`, name: input.body.name ?? tool.name })
      .where(eq(tools.id, tool.id))
      .returning();
    if (!bumped) throw new NotFoundError("Tool");
    const [version] = await tx
      .insert(toolVersions)
      .values({ toolId: tool.id, version: bumped.latestVersion, name: bumped.name, definition, createdBy: ctx.actor.userId })
      .returning();
    if (!version) throw new Error("insert returned no row");
    await recordAudit(tx, ctx, {
      action: "tool.version.create",
      targetType: "tool",
      targetId: tool.id,
      groupId: tool.groupId,
      details: { version: version.version, name: version.name },
    });
    return { ...toToolDto(bumped), latest: toToolVersionDto(version, true) };
  });
}

/** Archives a tool (idempotent): pinned assignments keep working; no new assignments or versions. */
export async function archiveTool({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<ToolDto> {
  return ctx.db.transaction(async (tx) => {
    const { tool } = await managedTool(ctx, tx, input.id);
    if (tool.archivedAt) return toToolDto(tool);
    const [row] = await tx.update(tools).set({ archivedAt: ctx.clock.now() }).where(eq(tools.id, tool.id)).returning();
    if (!row) throw new NotFoundError("Tool");
    await recordAudit(tx, ctx, { action: "tool.archive", targetType: "tool", targetId: tool.id, groupId: tool.groupId });
    return toToolDto(row);
  });
}
