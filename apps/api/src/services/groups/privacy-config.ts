import { privacyLayerSchema, ValidationError } from "@raptscallions/core";

/** Checks a group's `settings.privacy` when an admin saves it: a bad value is a 422 now, not at erasure time. */
export function assertValidPrivacySettings(layer: unknown): void {
  const parsed = privacyLayerSchema.safeParse(layer);
  if (!parsed.success) {
    throw new ValidationError(
      "Invalid privacy settings",
      parsed.error.issues.map((i) => ({ path: ["settings", "privacy", ...i.path.map(String)].join("."), message: i.message })),
    );
  }
}
