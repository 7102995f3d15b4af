/** @jsxImportSource preact */
import type { MessageDto } from "@raptscallions/core";
import { useEffect, useRef, useState } from "preact/hooks";
import { renderMarkdown } from "../markdown.ts";

const ROLE: Record<MessageDto["role"], string> = { user: "student", assistant: "assistant", teacher: "teacher", system: "system" };
const WHO: Record<string, string> = { student: "Student", assistant: "Tutor", teacher: "Teacher", system: "System" };
const ENDED: Record<string, string> = {
  stopped: "Stopped before the answer was finished.",
  failed: "The answer could not be finished.",
  interrupted: "Interrupted: the server stopped mid-answer.",
};

function flagsOf(m: MessageDto): string[] {
  const flags = m.meta.flags;
  return Array.isArray(flags) ? flags.filter((f): f is string => typeof f === "string") : [];
}

/** The safety module's caring reply: an assistant message stored with `meta.flags: ["blocked"]`. */
export function isCaringReply(m: MessageDto): boolean {
  return m.role === "assistant" && flagsOf(m).includes("blocked");
}

function Message(props: { m: MessageDto; mine: boolean }) {
  const { m } = props;
  const role = ROLE[m.role];
  const caring = isCaringReply(m);
  const state = m.state ?? "complete";
  const who = caring ? "A caring message" : props.mine && role === "student" ? "You" : WHO[role];
  const markdown = role === "assistant" || role === "teacher";
  return (
    <li
      data-testid="message"
      data-role={role}
      data-state={state}
      data-message-id={m.id}
      data-caring={caring ? "true" : undefined}
      class={`msg msg-${role}${caring ? " caring" : ""}`}
    >
      <p class="who">{who}</p>
      {caring ? <p class="caring-note">This reply comes from your school's safety settings, not the tutor. A teacher may check in with you.</p> : null}
      {markdown ? <div class="body md" dangerouslySetInnerHTML={{ __html: renderMarkdown(m.content) }} /> : <div class="body plain">{m.content}</div>}
      {state === "streaming" ? (
        <p class="muted streaming" aria-hidden="true">
          …
        </p>
      ) : null}
      {ENDED[state] ? <p class="ended">{ENDED[state]}</p> : null}
      {role === "student" && flagsOf(m).includes("blocked") ? <p class="muted">Not sent to the tutor.</p> : null}
    </li>
  );
}

/**
 * The conversation. Not itself a live region (that would read every token); `Announcer` says
 * when an answer has finished.
 */
export function MessageList(props: { messages: MessageDto[]; me: string; studentId: string | null }) {
  const end = useRef<HTMLLIElement>(null);
  const last = props.messages[props.messages.length - 1];
  useEffect(() => {
    end.current?.scrollIntoView({ block: "end" });
  }, [props.messages.length, last?.content.length]);
  return (
    <ol class="messages" data-testid="messages" aria-label="Conversation" tabIndex={0}>
      {props.messages.map((m) => (
        <Message key={m.id} m={m} mine={props.studentId === props.me} />
      ))}
      <li ref={end} class="end" aria-hidden="true" />
    </ol>
  );
}

/** A polite live region that announces each answer once it is final, never token by token. */
export function Announcer(props: { messages: MessageDto[]; ready: boolean }) {
  const seen = useRef<Map<string, string> | null>(null);
  const [text, setText] = useState("");
  useEffect(() => {
    if (!props.ready) return;
    const prev = seen.current;
    const next = new Map(props.messages.map((m) => [m.id, m.state ?? "complete"]));
    seen.current = next;
    if (!prev) return; // what was there on arrival is history, not news
    for (const m of props.messages) {
      if (m.role !== "assistant" || m.state === "streaming") continue;
      const before = prev.get(m.id);
      if (before === undefined || before === "streaming") {
        const lead = isCaringReply(m) ? "A caring message: " : m.state === "complete" ? "Answer finished: " : `Answer ${m.state ?? "ended"}: `;
        setText(lead + m.content.slice(0, 400));
      }
    }
  }, [props.messages, props.ready]);
  return (
    <div class="sr-only" aria-live="polite" role="status" data-testid="announcer">
      {text}
    </div>
  );
}
