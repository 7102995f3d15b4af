/** @jsxImportSource preact */
import type { AttentionEntry, ClassAttentionDto, SessionSummaryDto } from "@raptscallions/core";
import { useState } from "preact/hooks";
import { errorText, useSigned } from "../context.ts";
import { useLoad } from "../hooks.ts";
import { Link } from "../router.tsx";

/**
 * The teacher's summary of one session: the end-of-session summary (written shortly after it
 * ends) and any asked for while it ran. `ended` changes when the session ends, which reloads it.
 */
export function SummaryPanel(props: { sessionId: string; ended: boolean }) {
  const { client } = useSigned();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loaded, reload] = useLoad(() => client.rest("listSessionSummaries", { params: { id: props.sessionId } }), [props.sessionId, props.ended]);

  async function summariseNow() {
    setBusy(true);
    setError(null);
    try {
      await client.rest("requestSessionSummary", { params: { id: props.sessionId } });
      reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const latest: SessionSummaryDto | undefined = loaded.status === "ok" ? loaded.value.items[0] : undefined;
  return (
    <section class="summary" aria-labelledby="summary-heading" data-testid="summary-panel">
      <h2 id="summary-heading">Summary for the teacher</h2>
      {loaded.status === "loading" ? <p role="status">Loading the summary…</p> : null}
      {loaded.status === "error" ? <p role="alert">{loaded.message}</p> : null}
      {loaded.status === "ok" && !latest ? <p class="muted">No summary yet.</p> : null}
      {latest ? <SummaryView summary={latest} /> : null}
      <div class="toolbar">
        {props.ended ? (
          <button type="button" onClick={reload}>
            Refresh
          </button>
        ) : (
          <button type="button" data-testid="summarise-now" disabled={busy} onClick={() => void summariseNow()}>
            {busy ? "Summarising…" : "Summarise now"}
          </button>
        )}
      </div>
      {error ? <p role="alert">{error}</p> : null}
    </section>
  );
}

function SummaryView(props: { summary: SessionSummaryDto }) {
  const s = props.summary;
  const when = s.kind === "session-end" ? "At the end of the session" : "While the session ran";
  if (s.state === "pending") return <p role="status">{when}: being written…</p>;
  if (s.state !== "ready") {
    return (
      <p data-testid="summary-state" data-state={s.state}>
        {when}: no summary ({s.state === "refused" ? "the school's AI limits or budget did not allow it" : "the AI service failed"}
        {s.error ? `: ${s.error.code}` : ""}).
      </p>
    );
  }
  return (
    <figure>
      <figcaption class="muted">
        {when} · {s.model}
      </figcaption>
      <pre class="summary-text" data-testid="summary-text" data-state={s.state}>
        {s.text}
      </pre>
    </figure>
  );
}

const FLAG_LABELS: Record<AttentionEntry["flags"][number], string> = {
  alert: "open alert",
  stuck: "waiting for an answer",
  struggling: "struggling",
  "mild-struggle": "some struggle",
  silent: "quiet",
};

/** "Who needs attention": the ranked list from REST, replaced by each `attention.changed` the class room brings. */
export function AttentionList(props: { classId: string; live: ClassAttentionDto | null }) {
  const { client } = useSigned();
  const [loaded] = useLoad(() => client.rest("getClassAttention", { params: { id: props.classId } }), [props.classId]);
  const rest = loaded.status === "ok" ? loaded.value : null;
  // The newer of the two: an event computed after the REST answer replaces it.
  const list = props.live && (!rest || props.live.computedAt >= rest.computedAt) ? props.live : rest;
  return (
    <section aria-labelledby="attention-heading" data-testid="attention">
      <h2 id="attention-heading">Who needs attention</h2>
      {loaded.status === "error" && !list ? <p role="alert">{loaded.message}</p> : null}
      {!list ? <p role="status">Ranking the class…</p> : null}
      {list ? (
        <ol class="attention">
          {list.students
            .filter((s) => s.flags.length > 0)
            .map((s) => (
              <li key={s.studentId} data-testid="attention-row" data-user-id={s.studentId} data-flags={s.flags.join(" ")}>
                <strong>{s.name ?? "A student"}</strong> — {s.flags.map((f) => FLAG_LABELS[f]).join(", ")}
                {s.openAlerts.total > 0 ? ` (${s.openAlerts.total} open alert${s.openAlerts.total === 1 ? "" : "s"})` : null}
                {s.liveSessionIds[0] ? (
                  <>
                    {" "}
                    <Link to={`/sessions/${s.liveSessionIds[0]}`}>Open</Link>
                  </>
                ) : null}
              </li>
            ))}
        </ol>
      ) : null}
      {list?.students.every((s) => s.flags.length === 0) ? <p class="muted">Nobody needs attention right now.</p> : null}
    </section>
  );
}
