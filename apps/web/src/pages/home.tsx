/** @jsxImportSource preact */
import type { SessionDto } from "@raptscallions/client";
import type { StartSessionBody } from "@raptscallions/core";
import { useState } from "preact/hooks";
import { errorText, rolesOf, useSigned } from "../context.ts";
import { useLoad } from "../hooks.ts";
import { Link, navigate } from "../router.tsx";

export function Home() {
  const { me } = useSigned();
  const roles = rolesOf(me);
  return (
    <>
      <h1 tabIndex={-1}>Hello, {me.user.givenName ?? me.user.name ?? "there"}</h1>
      {roles.studying.length > 0 ? <StudentHome /> : null}
      {roles.teaching.length > 0 ? (
        <section aria-labelledby="teaching">
          <h2 id="teaching">Classes I teach</h2>
          <ul class="cards">
            {roles.teaching.map((c) => (
              <li key={c.id}>
                <Link to={`/classes/${c.id}`}>{c.name} — live view</Link>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {roles.isAdmin ? (
        <section aria-labelledby="admin">
          <h2 id="admin">Administration</h2>
          <p>
            <Link to="/admin">Groups, classes, usage and themes</Link>
          </p>
        </section>
      ) : null}
      {me.classes.length === 0 && !roles.isAdmin ? <p>You are not in any class yet.</p> : null}
    </>
  );
}

function StudentHome() {
  const { client, me } = useSigned();
  const classes = rolesOf(me).studying;
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sessions] = useLoad(() => client.rest("listSessions", { query: { limit: 20 } }), []);
  const [tools] = useLoad(() => client.rest("listTools", { query: { limit: 50 } }), []);

  async function start(body: StartSessionBody) {
    setBusy(true);
    setError(null);
    try {
      const { session } = await client.rest("startSession", { body });
      navigate(`/sessions/${session.id}`);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <>
      {error ? <p role="alert">{error}</p> : null}
      <section aria-labelledby="my-classes">
        <h2 id="my-classes">My classes</h2>
        {classes.map((c) => (
          <ClassAssignments
            key={c.id}
            classId={c.id}
            name={c.name}
            busy={busy}
            open={sessions.status === "ok" ? sessions.value.items.filter((s) => s.state !== "completed") : []}
            onStart={(assignmentId) => void start({ assignmentId })}
          />
        ))}
      </section>
      <section aria-labelledby="my-tools">
        <h2 id="my-tools">Tools</h2>
        {tools.status === "loading" ? <p role="status">Loading tools…</p> : null}
        {tools.status === "error" ? <p role="alert">{tools.message}</p> : null}
        {tools.status === "ok" ? (
          <ul class="cards">
            {tools.value.items
              .filter((t) => t.kind === "chat")
              .map((t) => (
                <li key={t.id}>
                  <span>{t.name}</span>{" "}
                  <button type="button" disabled={busy} onClick={() => void start({ toolId: t.id, ...(classes[0] ? { classId: classes[0].id } : {}) })}>
                    Start a chat with {t.name}
                  </button>
                </li>
              ))}
          </ul>
        ) : null}
      </section>
      <section aria-labelledby="my-sessions">
        <h2 id="my-sessions">My recent chats</h2>
        {sessions.status === "ok" ? (
          sessions.value.items.length === 0 ? (
            <p>No chats yet.</p>
          ) : (
            <ul class="cards">
              {sessions.value.items.map((s) => (
                <li key={s.id}>
                  <Link to={`/sessions/${s.id}`}>{s.title ?? `Chat of ${new Date(s.startedAt).toLocaleString()}`}</Link> <span class="muted">({s.state})</span>
                </li>
              ))}
            </ul>
          )
        ) : sessions.status === "error" ? (
          <p role="alert">{sessions.message}</p>
        ) : null}
      </section>
    </>
  );
}

function ClassAssignments(props: { classId: string; name: string; busy: boolean; open: SessionDto[]; onStart(assignmentId: string): void }) {
  const { client } = useSigned();
  const [assignments] = useLoad(() => client.rest("listClassAssignments", { params: { id: props.classId }, query: { limit: 50 } }), [props.classId]);
  return (
    <article class="card" aria-labelledby={`class-${props.classId}`}>
      <h3 id={`class-${props.classId}`}>{props.name}</h3>
      {assignments.status === "ok" ? (
        assignments.value.items.length === 0 ? (
          <p>No assignments open.</p>
        ) : (
          <ul>
            {assignments.value.items.map((a) => (
              <li key={a.id}>
                <strong>{a.title}</strong>
                {a.dueAt ? <span class="muted"> — due {new Date(a.dueAt).toLocaleDateString()}</span> : null}
                <p class="muted">{a.instructions}</p>
                {props.open.find((s) => s.assignmentId === a.id) ? (
                  <>
                    <Link to={`/sessions/${props.open.find((s) => s.assignmentId === a.id)?.id ?? ""}`}>Continue “{a.title}”</Link>{" "}
                  </>
                ) : null}
                <button type="button" disabled={props.busy} onClick={() => props.onStart(a.id)}>
                  Start “{a.title}”
                </button>
              </li>
            ))}
          </ul>
        )
      ) : assignments.status === "error" ? (
        <p role="alert">{assignments.message}</p>
      ) : (
        <p role="status">Loading assignments…</p>
      )}
    </article>
  );
}
