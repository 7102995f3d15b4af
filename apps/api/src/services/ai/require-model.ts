import { ValidationError } from "@raptscallions/core";
import { aiModels, type DbOrTx } from "@raptscallions/db";
import { eq } from "drizzle-orm";

/** A model named in a write must exist and be active: a typo is refused now, not at chat time. */
export async function requireActiveModel(db: DbOrTx, modelId: string, field: string): Promise<void> {
  const [model] = await db.select({ active: aiModels.active }).from(aiModels).where(eq(aiModels.id, modelId));
  if (!model?.active) {
    throw new ValidationError(model ? `Model "${modelId}" is not active` : `Unknown model "${modelId}"`, [
      { path: field, message: model ? "Model is not active" : "Unknown model", code: "invalid_model" },
    ]);
  }
}
