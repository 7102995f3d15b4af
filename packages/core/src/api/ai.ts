import { z } from "zod";
import { isoDateTime, pageQuerySchema } from "./common.ts";
import { queryBoolean } from "./pagination.ts";
import { modelIdSchema } from "./tools.ts";

const price = z.number().min(0).max(1_000);

export const aiModelSchema = z.object({
  id: z.string(),
  provider: z.string(),
  displayName: z.string(),
  /** USD per 1,000 tokens. */
  inputPricePer1k: z.number(),
  outputPricePer1k: z.number(),
  contextWindow: z.number().int(),
  maxOutputTokens: z.number().int(),
  active: z.boolean(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type AiModelDto = z.infer<typeof aiModelSchema>;

/** Only system admins see inactive models (`includeInactive=true`). */
export const listAiModelsQuerySchema = pageQuerySchema.extend({ includeInactive: queryBoolean.optional() });

const modelFields = {
  provider: z.string().trim().min(1).max(100),
  displayName: z.string().trim().min(1).max(200),
  inputPricePer1k: price,
  outputPricePer1k: price,
  contextWindow: z.number().int().min(1).max(10_000_000),
  maxOutputTokens: z.number().int().min(1).max(1_000_000),
  active: z.boolean(),
};

export const createAiModelBodySchema = z.object({
  id: modelIdSchema,
  provider: modelFields.provider,
  displayName: modelFields.displayName,
  inputPricePer1k: price.default(0),
  outputPricePer1k: price.default(0),
  contextWindow: modelFields.contextWindow.default(8192),
  maxOutputTokens: modelFields.maxOutputTokens.default(1024),
  active: z.boolean().default(true),
});
export type CreateAiModelBody = z.infer<typeof createAiModelBodySchema>;

export const updateAiModelBodySchema = z
  .object(modelFields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, "Nothing to update");
export type UpdateAiModelBody = z.infer<typeof updateAiModelBodySchema>;

export const aiModelParamsSchema = z.object({ id: modelIdSchema });

const limit = z.number().int().min(1).max(2_000_000_000).nullable();

/** Replaces the settings of one scope; an omitted limit means "no limit here" (inherit). */
export const aiSettingsBodySchema = z.object({
  /** Must name an existing, active model. */
  defaultModel: modelIdSchema.nullable().default(null),
  requestsPerMinute: limit.default(null),
  requestsPerHour: limit.default(null),
  tokensPerDay: limit.default(null),
  /** Stored as numeric(14,6): at most 8 digits before the point. */
  monthlyBudgetUsd: z.number().min(0).max(99_999_999).nullable().default(null),
  /** Fraction of the monthly budget (0..1) at which admins are alerted. */
  alertThreshold: z.number().min(0).max(1).default(0.8),
});
export type AiSettingsBody = z.infer<typeof aiSettingsBodySchema>;

export const aiSettingsSchema = z.object({
  scope: z.enum(["system", "group"]),
  groupId: z.uuid().nullable(),
  /** false: nothing stored for this scope; the values shown are the defaults. */
  configured: z.boolean(),
  defaultModel: z.string().nullable(),
  requestsPerMinute: z.number().int().nullable(),
  requestsPerHour: z.number().int().nullable(),
  tokensPerDay: z.number().int().nullable(),
  monthlyBudgetUsd: z.number().nullable(),
  alertThreshold: z.number(),
  updatedAt: isoDateTime.nullable(),
});
export type AiSettingsDto = z.infer<typeof aiSettingsSchema>;
