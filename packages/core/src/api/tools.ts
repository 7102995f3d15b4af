import { z } from "zod";
import { isoDateTime, pageQuerySchema } from "./common.ts";
import { formFieldSchema } from "./product-tools.ts";

export const TOOL_KIND_VALUES = ["chat", "product"] as const;
export const toolKindSchema = z.enum(TOOL_KIND_VALUES);

/** Gateway model ids such as `openai/gpt-4o-mini` or `dev-tutor`. */
export const modelIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, "Letters, digits and . _ : / @ - only");

/** Per-module settings keyed by module id; `true`/`false` is shorthand for `{ enabled }`. */
export const moduleConfigSchema = z.record(
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9-]+$/),
  z.union([z.boolean(), z.record(z.string(), z.unknown())]),
);

/** What a tool version says: the prompt, the model and the modules that watch its chats. */
export const toolDefinitionInputSchema = z.strictObject({
  systemPrompt: z.string().trim().min(1).max(20_000),
  /** Absent or null: resolved up the group tree (tool → group → system → default). */
  model: modelIdSchema.nullable().optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: z.number().int().min(1).max(32_000).optional(),
  modules: moduleConfigSchema.optional(),
  /** Product tools only (required there): the form a run fills in… */
  form: z.array(formFieldSchema).min(1).max(30).optional(),
  /** …and the prompt its inputs are put into (`{{fieldName}}`). */
  promptTemplate: z.string().trim().min(1).max(20_000).optional(),
});
export type ToolDefinitionInput = z.infer<typeof toolDefinitionInputSchema>;

/** Stored definitions may carry keys older clients wrote, so the output shape is open. */
export const toolDefinitionSchema = z.looseObject({
  systemPrompt: z.string(),
  model: z.string().nullable().optional(),
  temperature: z.number().optional(),
  maxOutputTokens: z.number().optional(),
  modules: z.record(z.string(), z.unknown()).optional(),
  form: z.array(z.looseObject({ type: z.string(), name: z.string(), label: z.string() })).optional(),
  promptTemplate: z.string().optional(),
});

export const toolVersionSchema = z.object({
  toolId: z.uuid(),
  version: z.number().int(),
  name: z.string(),
  /** null when the caller may use the tool but not read its prompt (students). */
  definition: toolDefinitionSchema.nullable(),
  /** A product tool's form, for everyone who may run it (students too: the form is not the prompt); null for chat tools. */
  form: z.array(formFieldSchema).nullable(),
  createdBy: z.uuid().nullable(),
  createdAt: isoDateTime,
});
export type ToolVersionDto = z.infer<typeof toolVersionSchema>;

export const toolSchema = z.object({
  id: z.uuid(),
  groupId: z.uuid(),
  kind: toolKindSchema,
  name: z.string(),
  latestVersion: z.number().int(),
  createdBy: z.uuid().nullable(),
  archivedAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type ToolDto = z.infer<typeof toolSchema>;

export const toolDetailSchema = toolSchema.extend({ latest: toolVersionSchema });
export type ToolDetailDto = z.infer<typeof toolDetailSchema>;

export const listToolsQuerySchema = pageQuerySchema.extend({
  groupId: z.uuid().optional(),
  archived: z.enum(["true", "false", "all"]).default("false"),
});
export type ListToolsQuery = z.infer<typeof listToolsQuerySchema>;

const toolNameSchema = z.string().trim().min(1).max(200);

export const createToolBodySchema = z.object({
  groupId: z.uuid(),
  name: toolNameSchema,
  kind: toolKindSchema.default("chat"),
  definition: toolDefinitionInputSchema,
});
export type CreateToolBody = z.infer<typeof createToolBodySchema>;

/** A new immutable version; `name` renames the tool from this version on. */
export const createToolVersionBodySchema = z.object({
  name: toolNameSchema.optional(),
  definition: toolDefinitionInputSchema,
});
export type CreateToolVersionBody = z.infer<typeof createToolVersionBodySchema>;

export const toolVersionParamsSchema = z.object({
  id: z.uuid(),
  version: z.coerce.number().int().min(1).max(2_147_483_647),
});
