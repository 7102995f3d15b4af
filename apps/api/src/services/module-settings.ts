import { resolveModuleConfig, validateModuleConfigLayer } from "@raptscallions/modules";

/**
 * Checks module settings when an admin saves them (a tool definition's `modules`, a group's
 * `settings.modules`): unknown modules, bad shapes and unknown keys are a 422 now, rather than a
 * layer the chat turn has to skip later.
 */
export function assertValidModuleSettings(layer: unknown): void {
  const checked = validateModuleConfigLayer(layer);
  if (checked) resolveModuleConfig([checked]);
}
