/** @jsxImportSource preact */
import type { AlertDto } from "@raptscallions/core";
import { Link } from "../router.tsx";

/** Module alerts for review, newest first; open ones can be acknowledged or dismissed. */
export function AlertList(props: { alerts: AlertDto[]; names: Record<string, string>; onAcknowledge(a: AlertDto): void; onDismiss(a: AlertDto): void }) {
  return (
    <section aria-labelledby="alerts-heading">
      <h2 id="alerts-heading">Alerts</h2>
      {props.alerts.length === 0 ? <p>No alerts.</p> : null}
      <ul class="alerts" data-testid="alerts" aria-live="polite" aria-relevant="additions">
        {props.alerts.map((a) => (
          <li key={a.id} data-testid="alert" data-alert-id={a.id} data-status={a.status} data-severity={a.severity} class={`alert sev-${a.severity}`}>
            <p>
              <strong>{a.severity}</strong> · {a.module} · {(a.studentId && props.names[a.studentId]) ?? "a student"} ·{" "}
              <time dateTime={a.createdAt}>{new Date(a.createdAt).toLocaleTimeString()}</time>
            </p>
            <p>{a.message}</p>
            {a.runId ? (
              <p>
                <Link to={`/runs/${a.runId}`}>Open the run it was raised on</Link>
              </p>
            ) : a.sessionId ? (
              <p>
                <Link to={`/sessions/${a.sessionId}`}>Open the session</Link>
              </p>
            ) : null}
            <p class="muted">Status: {a.status}</p>
            {a.status === "open" ? (
              <div class="actions">
                <button type="button" data-testid="alert-ack" onClick={() => props.onAcknowledge(a)}>
                  Acknowledge
                </button>
                <button type="button" data-testid="alert-dismiss" onClick={() => props.onDismiss(a)}>
                  Dismiss
                </button>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
