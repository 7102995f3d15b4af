import { aiSettings, aiUsage, type DbOrTx } from "@raptscallions/db";
import type { SchoolScene } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import type { Generation, GenerationEvent, GenerationRequest } from "../src/lib/ai-service.ts";

/** A generation request for the scene's student in its class, with overridable parts. */
export function generationRequest(
  scene: SchoolScene,
  over: {
    definition?: Partial<GenerationRequest["definition"]>;
    scope?: Partial<GenerationRequest["scope"]>;
    messages?: GenerationRequest["messages"];
    signal?: AbortSignal;
  } = {},
): GenerationRequest {
  return {
    scope: {
      userId: scene.student.id,
      groupId: scene.department.id,
      classId: scene.cls.id,
      toolId: scene.tool.id,
      toolVersion: 1,
      sessionId: null,
      assignmentId: null,
      runId: null,
      messageId: null,
      ...over.scope,
    },
    definition: { systemPrompt: "You are a patient maths tutor.", ...over.definition },
    messages: over.messages ?? [{ role: "user", content: "How do I add one half and one third?" }],
    signal: over.signal ?? new AbortController().signal,
  };
}

/** Reads every event; returns them, the text, and the error iteration ended with (if any). */
export async function drain(gen: Generation): Promise<{ events: GenerationEvent[]; text: string; error: unknown }> {
  const events: GenerationEvent[] = [];
  let text = "";
  try {
    for await (const ev of gen.events) {
      events.push(ev);
      if (ev.type === "delta") text += ev.text;
    }
  } catch (err) {
    return { events, text, error: err };
  }
  return { events, text, error: undefined };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; status?: number; retryAfterSeconds?: number; details?: unknown }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Error) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}

export async function settingsFor(db: DbOrTx, groupId: string, values: Partial<typeof aiSettings.$inferInsert>) {
  await db
    .insert(aiSettings)
    .values({ groupId, ...values })
    .onConflictDoUpdate({ target: aiSettings.groupId, set: values });
}

export async function usageRowsFor(db: DbOrTx, userId: string) {
  return db.select().from(aiUsage).where(eq(aiUsage.userId, userId));
}
