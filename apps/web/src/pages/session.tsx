/** @jsxImportSource preact */
import { useState } from "preact/hooks";
import { errorText, useSigned } from "../context.ts";
import { useObservable, useRoom } from "../hooks.ts";
import { Link } from "../router.tsx";
import { SummaryPanel } from "./insights.tsx";
import { Announcer, MessageList } from "./messages.tsx";

/**
 * One session, live. The student chats; a teacher or admin watches, steps in with a message, and
 * can pause, resume, end or stop the answer. Joining mid-answer shows the text so far (the
 * room's snapshot), then the rest as it streams; reconnects resume by offset (the client).
 */
export function SessionPage(props: { sessionId: string }) {
  const { client, me } = useSigned();
  const room = useRoom(client, `session:${props.sessionId}`);
  const connection = useObservable(client.connection).status;
  const [error, setError] = useState<string | null>(null);

  if (!room || (room.status === "joining" && !room.session)) return <p role="status">Opening the chat…</p>;
  if (room.status === "error" && !room.session) {
    return (
      <>
        <h1 tabIndex={-1}>Chat unavailable</h1>
        <p role="alert">{room.error?.message ?? "This chat cannot be opened."}</p>
        <Link to="/">Back home</Link>
      </>
    );
  }
  const session = room.session;
  const isStudent = session?.studentId === me.user.id;
  const streaming = room.streamingMessageId !== null;
  const ended = session?.state === "completed";
  const paused = session?.state === "paused";

  async function act(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(errorText(err));
    }
  }
  const id = props.sessionId;

  return (
    <div class="chat">
      <h1 tabIndex={-1}>{session?.title ?? (isStudent ? "Your chat" : "Watching a chat")}</h1>
      <p class="muted">
        State: <span data-testid="session-state">{session?.state ?? "…"}</span>
        {room.status === "resyncing" ? " · catching up…" : null}
      </p>
      {!isStudent && session ? (
        <div class="toolbar" role="group" aria-label="Teacher controls">
          {session.classId ? <Link to={`/classes/${session.classId}`}>Back to the class</Link> : null}
          <button type="button" disabled={!paused} onClick={() => void act(() => client.rest("resumeSession", { params: { id } }))}>
            Resume
          </button>
          <button type="button" disabled={paused || ended} onClick={() => void act(() => client.rest("pauseSession", { params: { id } }))}>
            Pause
          </button>
          <button type="button" disabled={ended} onClick={() => void act(() => client.rest("endSession", { params: { id } }))}>
            End session
          </button>
        </div>
      ) : null}
      {connection === "offline" || connection === "connecting" ? (
        <p class="notice" role="status">
          Reconnecting… the chat catches up by itself (nothing is lost or repeated); anything you send now goes out once the connection is back.
        </p>
      ) : null}
      <MessageList messages={room.messages} me={me.user.id} studentId={session?.studentId ?? null} />
      <Announcer messages={room.messages} ready={room.session !== null} />
      {error ? <p role="alert">{error}</p> : null}
      {paused && isStudent ? <p role="status">Your teacher has paused this chat.</p> : null}
      {ended ? <p role="status">This chat has ended.</p> : null}
      <Composer
        label={isStudent ? "Message" : "Message to the student (as teacher)"}
        disabled={ended || (isStudent && paused)}
        streaming={streaming}
        onSend={(content) => (isStudent ? client.sendMessage({ sessionId: id, content }) : client.teacherMessage({ sessionId: id, content }))}
        onStop={() => void act(() => client.stopGeneration(id))}
        onError={setError}
      />
      {!isStudent && session ? <SummaryPanel sessionId={id} ended={ended} /> : null}
    </div>
  );
}

function Composer(props: {
  label: string;
  disabled: boolean;
  streaming: boolean;
  onSend(content: string): Promise<unknown>;
  onStop(): void;
  onError(message: string): void;
}) {
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);

  async function submit(e?: Event) {
    e?.preventDefault();
    const content = text.trim();
    if (!content || sending) return;
    setSending(true);
    setText("");
    try {
      await props.onSend(content);
    } catch (err) {
      setText(content); // nothing was stored: give the words back
      props.onError(errorText(err));
    } finally {
      setSending(false);
    }
  }

  return (
    <form class="composer" onSubmit={(e) => void submit(e)}>
      <label for="chat-input">{props.label}</label>
      <textarea
        id="chat-input"
        data-testid="chat-input"
        rows={3}
        maxLength={4000}
        value={text}
        disabled={props.disabled}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          // Enter sends; Shift+Enter is a new line.
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) void submit(e);
        }}
      />
      <div class="actions">
        <button type="submit" data-testid="chat-send" disabled={props.disabled || sending || props.streaming || text.trim() === ""}>
          Send
        </button>
        {props.streaming ? (
          <button type="button" data-testid="chat-stop" class="danger" onClick={props.onStop}>
            Stop the answer
          </button>
        ) : null}
      </div>
    </form>
  );
}
