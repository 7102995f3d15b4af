import type { MessageMeta } from "@raptscallions/db";

/**
 * Flags the module gate puts on turns it withheld from the provider: the student's blocked (or
 * held) message and the caring reply stored in place of an answer. A withheld turn must never
 * reach a provider later as history either, or the gate would only delay what it stopped.
 */
export const WITHHELD_FLAGS: readonly string[] = ["blocked", "held"];

/** True when a stored message was withheld from the provider by the module gate. */
export function isWithheld(meta: MessageMeta | null | undefined): boolean {
  const flags = meta?.flags;
  return Array.isArray(flags) && flags.some((f) => WITHHELD_FLAGS.includes(f));
}

/** A withheld student message's meta, flagged so it never becomes provider history (whatever gate stored it). */
export function withheldMeta(meta: Record<string, unknown>): Record<string, unknown> {
  if (isWithheld(meta)) return meta;
  const flags = Array.isArray(meta.flags) ? meta.flags.filter((f): f is string => typeof f === "string") : [];
  return { ...meta, flags: [...flags, "blocked"] };
}
