import type { Actor } from "./actor.ts";

/**
 * Who did work that no signed-in person asked for: a job of this server (`system`, named after
 * the job) or a sync from an outside source (`integration`, with the source's own id and name).
 * A system actor is never given a person's permissions: code that runs as one calls service
 * cores, which assume the decision to act was already made.
 */
export type SystemActor = { kind: "system"; name: string } | { kind: "integration"; id: string; name: string };

/** A signed-in person or the system: whoever a write is attributed to. */
export type AnyActor = Actor | SystemActor;

export function isSystemActor(actor: AnyActor): actor is SystemActor {
  return "kind" in actor && (actor.kind === "system" || actor.kind === "integration");
}

/** The actor of every Clerk webhook write. */
export const clerkIntegration: SystemActor = { kind: "integration", id: "clerk", name: "Clerk" };
