import { formFieldSchema, NotFoundError, type ToolDto, type ToolVersionDto } from "@raptscallions/core";
import { z } from "zod";
import { type DbOrTx, groups, type toolVersions, tools } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { policy, type ToolRef } from "../../access/policy.ts";
import { iso } from "../query-helpers.ts";

export type ToolRow = typeof tools.$inferSelect;
export type ToolVersionRow = typeof toolVersions.$inferSelect;

export async function loadTool(db: DbOrTx, id: string): Promise<{ tool: ToolRow; groupPath: string } | undefined> {
  const [row] = await db.select({ tool: tools, groupPath: groups.path }).from(tools).innerJoin(groups, eq(groups.id, tools.groupId)).where(eq(tools.id, id));
  return row;
}

export const toolRef = (found: { tool: ToolRow; groupPath: string }): ToolRef => ({
  groupPath: found.groupPath,
  createdBy: found.tool.createdBy,
});

/** The tool if the actor may use it; otherwise 404, whether or not it exists. */
export async function requireUsableTool(ctx: { db: DbOrTx; actor: Actor }, id: string) {
  const found = await loadTool(ctx.db, id);
  if (!found || !policy.canUseTool(ctx.actor, toolRef(found))) throw new NotFoundError("Tool");
  return found;
}

export function toToolDto(t: ToolRow): ToolDto {
  return {
    id: t.id,
    groupId: t.groupId,
    kind: t.kind,
    name: t.name,
    latestVersion: t.latestVersion,
    createdBy: t.createdBy,
    archivedAt: iso(t.archivedAt),
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
  };
}

export function toToolVersionDto(v: ToolVersionRow, withDefinition: boolean): ToolVersionDto {
  return {
    toolId: v.toolId,
    version: v.version,
    name: v.name,
    definition: withDefinition ? v.definition : null,
    form: formOf(v.definition),
    createdBy: v.createdBy,
    createdAt: iso(v.createdAt),
  };
}

const storedForm = z.array(formFieldSchema).min(1);

/** The declared form, as written (it was checked then); null for a chat tool's version. */
function formOf(definition: ToolVersionRow["definition"]) {
  const parsed = storedForm.safeParse(definition.form);
  return parsed.success ? parsed.data : null;
}
