/** @jsxImportSource preact */
import type { AlertDto } from "@raptscallions/core";
import type { SessionDto } from "@raptscallions/client";
import { useMemo, useState } from "preact/hooks";
import { errorText, useSigned } from "../context.ts";
import { useLoad, useRoom } from "../hooks.ts";
import { Link } from "../router.tsx";
import { AlertList } from "./alerts.tsx";
import { AttentionList } from "./insights.tsx";

interface ClassData {
  id: string;
  name: string;
  students: { id: string; name: string }[];
  sessions: SessionDto[];
  alerts: AlertDto[];
}

/**
 * A class, live: every student with presence, their current session's latest message and state
 * (each open session's room is joined, so a streaming answer grows here too), struggle signals,
 * and alerts as they arrive.
 */
export function ClassLive(props: { classId: string }) {
  const { client } = useSigned();
  const id = props.classId;
  const [data] = useLoad(async (): Promise<ClassData> => {
    const [cls, members, sessions, alerts] = await Promise.all([
      client.rest("getClass", { params: { id } }),
      client.rest("listClassMembers", { params: { id }, query: { limit: 200 } }),
      client.rest("listSessions", { query: { classId: id, limit: 200 } }),
      client.rest("listAlerts", { query: { classId: id, limit: 100 } }),
    ]);
    const students = members.items.filter((m) => m.role === "student").map((m) => ({ id: m.userId, name: m.user.name ?? m.user.email ?? m.userId }));
    return { id, name: cls.name, students, sessions: sessions.items, alerts: alerts.items };
  }, [id]);
  const room = useRoom(client, `class:${id}`);

  if (data.status === "loading") return <p role="status">Loading the class…</p>;
  if (data.status === "error") {
    return (
      <>
        <h1 tabIndex={-1}>Class unavailable</h1>
        <p role="alert">{data.message}</p>
      </>
    );
  }
  return <ClassView data={data.value} room={room} />;
}

function ClassView(props: { data: ClassData; room: ReturnType<typeof useRoom> }) {
  const { client } = useSigned();
  const { data, room } = props;
  const [updated, setUpdated] = useState<Record<string, AlertDto>>({});
  const [error, setError] = useState<string | null>(null);

  // Sessions: the REST list, overridden by what the class room announced since.
  const current = useMemo(() => {
    const all = new Map(data.sessions.map((s) => [s.id, s]));
    for (const s of Object.values(room?.sessions ?? {})) all.set(s.id, s);
    const byStudent = new Map<string, SessionDto>();
    for (const s of all.values()) {
      const prev = byStudent.get(s.studentId);
      // An open session beats an ended one; among equals, the latest started.
      const open = (x: SessionDto) => x.state !== "completed";
      if (!prev || (open(s) && !open(prev)) || (open(s) === open(prev) && s.startedAt > prev.startedAt)) byStudent.set(s.studentId, s);
    }
    return byStudent;
  }, [data.sessions, room?.sessions]);

  // Alerts: REST, then live `alert` events, then this page's own acknowledge/dismiss answers.
  const alerts = useMemo(() => {
    const byId = new Map(data.alerts.map((a) => [a.id, a]));
    for (const ev of room?.alerts ?? []) {
      const alert = ev.event === "alert" ? (ev.payload as { alert?: AlertDto }).alert : undefined;
      if (alert?.id) byId.set(alert.id, alert);
    }
    for (const a of Object.values(updated)) byId.set(a.id, a);
    return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }, [data.alerts, room?.alerts, updated]);

  const struggle = useMemo(() => {
    const level: Record<string, string> = {};
    for (const ev of room?.alerts ?? []) {
      const p = ev.payload as { studentId?: string; level?: string };
      if (ev.event === "struggle" && p.studentId && p.level) level[p.studentId] = p.level;
    }
    return level;
  }, [room?.alerts]);

  async function resolve(alert: AlertDto, action: "acknowledgeAlert" | "dismissAlert") {
    setError(null);
    try {
      const next = await client.rest(action, { params: { id: alert.id } });
      setUpdated((u) => ({ ...u, [next.id]: next }));
    } catch (err) {
      setError(errorText(err));
    }
  }

  const names = Object.fromEntries(data.students.map((s) => [s.id, s.name]));
  return (
    <div data-testid="class-live">
      <h1 tabIndex={-1}>{data.name} — live</h1>
      {room?.status === "error" ? <p role="alert">{room.error?.message}</p> : null}
      {error ? <p role="alert">{error}</p> : null}
      <AttentionList classId={data.id} live={room?.attention ?? null} />
      <section aria-labelledby="students-heading">
        <h2 id="students-heading">Students</h2>
        <table class="students">
          <thead>
            <tr>
              <th scope="col">Student</th>
              <th scope="col">Presence</th>
              <th scope="col">Session</th>
              <th scope="col">Latest message</th>
              <th scope="col">Signals</th>
            </tr>
          </thead>
          <tbody>
            {data.students.map((s) => {
              const online = room?.presence[s.id]?.online === true;
              const session = current.get(s.id);
              return (
                <tr key={s.id} data-testid="student-row" data-user-id={s.id}>
                  <th scope="row">{s.name}</th>
                  <td>
                    <span data-testid="presence" data-online={online ? "true" : "false"} class={online ? "dot on" : "dot"}>
                      {online ? "Online" : "Offline"}
                    </span>
                  </td>
                  <td>
                    {session ? (
                      <>
                        <Link to={`/sessions/${session.id}`}>Open {s.name}'s session</Link> <span class="muted">({session.state})</span>
                      </>
                    ) : (
                      <span class="muted">No session</span>
                    )}
                  </td>
                  <td>{session && session.state !== "completed" ? <LatestMessage sessionId={session.id} /> : <span class="muted">—</span>}</td>
                  <td>
                    {struggle[s.id] && struggle[s.id] !== "none" ? <span class={`badge struggle-${struggle[s.id]}`}>{struggle[s.id]}</span> : null}
                    {alerts.some((a) => a.studentId === s.id && a.status === "open") ? <span class="badge alert-badge">alert</span> : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      <AlertList alerts={alerts} names={names} onAcknowledge={(a) => void resolve(a, "acknowledgeAlert")} onDismiss={(a) => void resolve(a, "dismissAlert")} />
    </div>
  );
}

/** The latest message of an open session, live (its room is joined while the row is shown). */
function LatestMessage(props: { sessionId: string }) {
  const { client } = useSigned();
  const room = useRoom(client, `session:${props.sessionId}`);
  const last = room?.messages[room.messages.length - 1];
  if (!last) return <span class="muted">—</span>;
  const who = last.role === "user" ? "Student" : last.role === "assistant" ? "Tutor" : last.role === "teacher" ? "Teacher" : "System";
  // A growing answer shows its newest words; a finished message its first ones.
  const long = last.content.length > 160;
  const text = !long ? last.content : last.state === "streaming" ? `…${last.content.slice(-160)}` : `${last.content.slice(0, 160)}…`;
  return (
    <span class="latest" data-testid="latest-message" data-state={last.state ?? "complete"}>
      <strong>{who}:</strong> {text || "…"} {last.state === "streaming" ? <em class="muted">(answering)</em> : null}
    </span>
  );
}
