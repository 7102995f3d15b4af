import { keywordOf } from "./tutor-reply.ts";

/**
 * The session-summary request: one format, written by the API and read by the dev model, so the
 * dev model can answer it deterministically from what it was given (and tests can predict it).
 * A real model reads the same text as plain instructions.
 */

/** The system prompt of every summary request; its first line is how the dev model recognises one. */
export const SUMMARY_SYSTEM_PROMPT = [
  "SESSION SUMMARY REQUEST",
  "You summarise a student's tutoring session for their teacher, who has no time to read it.",
  "Write at most five short lines in plain text, in this order:",
  "Worked on: the topics the student worked on.",
  "Struggled: where the student got stuck, using the struggle signals given, or 'no sign of struggle'.",
  "Alerts: the alerts raised (category and severity only), or 'none'.",
  "Never quote the student, never guess personal details; bracketed tokens such as [name] stand for withheld details.",
].join("\n");

/** A line of the transcript, already redacted by the caller. */
export interface SummaryTurn {
  speaker: "Student" | "Tutor" | "Teacher";
  text: string;
}

/** What the caller knows besides the transcript: the struggle module's signal and the alerts raised. */
export interface SummaryFacts {
  struggle: { level: "none" | "mild" | "struggling"; reasons: string[] } | null;
  alerts: { category: string; severity: string; count: number }[];
  /** Turns left out because the transcript was too long (the oldest go first). */
  omittedTurns: number;
}

const TRANSCRIPT_HEADING = "## Transcript";
const STRUGGLE_HEADING = "## Struggle signals";
const ALERTS_HEADING = "## Alerts raised";

/** The user turn of a summary request: facts first, then the transcript, one turn per line. */
export function buildSummaryPrompt(turns: readonly SummaryTurn[], facts: SummaryFacts): string {
  const struggle = facts.struggle
    ? `level: ${facts.struggle.level}${facts.struggle.reasons.length > 0 ? `\nreasons: ${facts.struggle.reasons.join("; ")}` : ""}`
    : "level: none";
  const alerts = facts.alerts.length === 0 ? "none" : facts.alerts.map((a) => `- ${a.category} (${a.severity}) x${a.count}`).join("\n");
  const omitted = facts.omittedTurns > 0 ? [`(${facts.omittedTurns} earlier turns left out)`] : [];
  // One line per turn: a turn's own line breaks would read as new speakers.
  const lines = turns.map((t) => `${t.speaker}: ${t.text.replace(/\s+/g, " ").trim()}`);
  return [STRUGGLE_HEADING, struggle, "", ALERTS_HEADING, alerts, "", TRANSCRIPT_HEADING, ...omitted, ...lines].join("\n");
}

/** True when a chat request is a summary request (its system prompt starts with the marker line). */
export function isSummaryRequest(messages: readonly { role: string; content: string }[]): boolean {
  return messages.some((m) => (m.role === "system" || m.role === "developer") && m.content.startsWith("SESSION SUMMARY REQUEST"));
}

function section(text: string, heading: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("## ")) break;
    out.push(line);
  }
  return out;
}

/**
 * The dev model's summary: topics are the most telling words of the student's turns (most
 * frequent first, ties by first appearance), struggle and alerts are restated from the facts.
 * Bracketed redaction tokens are never topics.
 */
export function devSummaryReply(messages: readonly { role: string; content: string }[]): string {
  const prompt = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const studentTurns = section(prompt, TRANSCRIPT_HEADING)
    .filter((l) => l.startsWith("Student: "))
    .map((l) => l.slice("Student: ".length).replace(/\[[^\]]*\]/g, " "));
  const counts = new Map<string, number>();
  for (const turn of studentTurns) {
    const word = keywordOf(turn);
    if (word) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const topics = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([w]) => w);
  const struggleLines = section(prompt, STRUGGLE_HEADING);
  const level = struggleLines.find((l) => l.startsWith("level: "))?.slice("level: ".length) ?? "none";
  const reasons = struggleLines.find((l) => l.startsWith("reasons: "))?.slice("reasons: ".length);
  const alerts = section(prompt, ALERTS_HEADING)
    .filter((l) => l.startsWith("- "))
    .map((l) => l.slice(2));
  const worked = topics.length > 0 ? `Worked on: ${topics.join(", ")}.` : "Worked on: nothing yet (no student messages).";
  const struggled = level === "none" ? "Struggled: no sign of struggle." : `Struggled: ${level}${reasons ? ` (${reasons})` : ""}.`;
  const raised = alerts.length > 0 ? `Alerts: ${alerts.join(", ")}.` : "Alerts: none.";
  return `${worked}\n${struggled}\n${raised}`;
}
