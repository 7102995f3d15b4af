import { z } from "zod";
import { isoDateTime, pageQuerySchema } from "./common.ts";

const fieldName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-zA-Z0-9_]*$/, "Starts with a lowercase letter; letters, digits and _ only");
const label = z.string().trim().min(1).max(200);

/** One input of a product tool's form. The run's inputs are checked against a schema built from these. */
export const formFieldSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("text"),
    name: fieldName,
    label,
    required: z.boolean().default(true),
    minLength: z.number().int().min(0).max(4000).optional(),
    maxLength: z.number().int().min(1).max(4000).default(1000),
    multiline: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal("number"),
    name: fieldName,
    label,
    required: z.boolean().default(true),
    min: z.number().optional(),
    max: z.number().optional(),
    integer: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal("select"),
    name: fieldName,
    label,
    required: z.boolean().default(true),
    options: z.array(z.string().trim().min(1).max(200)).min(1).max(50),
  }),
  z.strictObject({ type: z.literal("boolean"), name: fieldName, label, required: z.boolean().default(false) }),
]);
export type FormField = z.infer<typeof formFieldSchema>;

const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_]+)\s*\}\}/g;

/** The field names a prompt template refers to (`{{name}}`). */
export function templateFields(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? "");
}

/** A product tool's form and prompt; `promptTemplate` may only name declared fields. */
export const productFormSchema = z
  .object({
    form: z.array(formFieldSchema).min(1).max(30),
    promptTemplate: z.string().trim().min(1).max(20_000),
  })
  .superRefine((v, ctx) => {
    const names = new Set<string>();
    v.form.forEach((f, i) => {
      if (names.has(f.name)) ctx.addIssue({ code: "custom", path: ["form", i, "name"], message: `Duplicate field "${f.name}"` });
      names.add(f.name);
      if (f.type === "text" && f.minLength !== undefined && f.minLength > f.maxLength) {
        ctx.addIssue({ code: "custom", path: ["form", i, "minLength"], message: "minLength exceeds maxLength" });
      }
      if (f.type === "number" && f.min !== undefined && f.max !== undefined && f.min > f.max) {
        ctx.addIssue({ code: "custom", path: ["form", i, "min"], message: "min exceeds max" });
      }
    });
    for (const name of templateFields(v.promptTemplate)) {
      if (!names.has(name)) ctx.addIssue({ code: "custom", path: ["promptTemplate"], message: `{{${name}}} names no field of the form` });
    }
  });

/**
 * The zod schema of a run's inputs, built from the form the tool version declares: unknown keys
 * are refused, each field checked by its type and bounds. Shared by the server (authoritative)
 * and clients (to show errors before sending).
 */
export function formInputSchema(form: readonly FormField[]) {
  const shape: Record<string, z.ZodType> = {};
  for (const f of form) {
    let field: z.ZodType;
    if (f.type === "text") {
      let t = z.string().trim().max(f.maxLength);
      t = t.min(f.minLength ?? (f.required ? 1 : 0));
      field = t;
    } else if (f.type === "number") {
      let n = f.integer ? z.number().int() : z.number();
      if (f.min !== undefined) n = n.min(f.min);
      if (f.max !== undefined) n = n.max(f.max);
      field = n;
    } else if (f.type === "select") {
      field = z.enum(f.options as [string, ...string[]]);
    } else {
      field = z.boolean();
    }
    shape[f.name] = f.required ? field : field.optional();
  }
  return z.strictObject(shape);
}

/** The prompt a run sends: the template with each `{{name}}` replaced by the input (empty when absent). */
export function renderPrompt(template: string, input: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_all, name: string) => {
    const v = input[name];
    return v === undefined || v === null ? "" : String(v);
  });
}

export const RUN_STATE_VALUES = ["running", "complete", "failed", "stopped", "interrupted"] as const;

export const runDtoSchema = z.object({
  id: z.uuid(),
  toolId: z.uuid(),
  toolVersion: z.number().int(),
  userId: z.uuid(),
  groupId: z.uuid(),
  classId: z.uuid().nullable(),
  input: z.record(z.string(), z.unknown()),
  output: z.string(),
  state: z.enum(RUN_STATE_VALUES),
  meta: z.record(z.string(), z.unknown()),
  createdAt: isoDateTime,
  finishedAt: isoDateTime.nullable(),
});
export type RunDto = z.infer<typeof runDtoSchema>;

export const startRunBodySchema = z.object({
  toolId: z.uuid(),
  /** The class the run is for (its group's limits and modules apply; its teachers see the run). */
  classId: z.uuid().optional(),
  /** The form's inputs: checked against the tool version's form (422 with each field's issue). */
  input: z.record(z.string().max(64), z.unknown()),
});
export type StartRunBody = z.infer<typeof startRunBodySchema>;

export const runRoomSchema = z.object({ name: z.string(), epoch: z.string().nullable(), offset: z.number().int() });
export const runResponseSchema = z.object({ run: runDtoSchema, room: runRoomSchema });
export const listRunsQuerySchema = pageQuerySchema.extend({ classId: z.uuid().optional(), toolId: z.uuid().optional() });
export type ListRunsQuery = z.infer<typeof listRunsQuerySchema>;
export const stopRunResponseSchema = z.object({ runId: z.uuid(), stopping: z.boolean() });
/** What a run room's `snapshot` frame carries: the run with its output so far. */
export const runSnapshotPayloadSchema = z.object({ run: runDtoSchema });
