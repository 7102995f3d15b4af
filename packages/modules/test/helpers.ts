import type { HistoryMessage, StudentInfo, TurnContext } from "../src/index.ts";

export const NOW = new Date("2026-01-15T10:00:00Z");

export const MAYA: StudentInfo = { id: "student-maya", givenName: "Maya", familyName: "Okafor", displayName: "Maya O." };

/** A turn context with sensible defaults; override what a test cares about. */
export function turn(overrides: Partial<TurnContext> = {}): TurnContext {
  return { sessionId: "session-1", student: MAYA, recentStudentMessages: [], now: NOW, ...overrides };
}

/** Messages at the given minute offsets from `start`. */
export function timeline(start: Date, entries: Array<[minutes: number, text: string]>): HistoryMessage[] {
  return entries.map(([minutes, text]) => ({ text, at: new Date(start.getTime() + minutes * 60_000) }));
}
