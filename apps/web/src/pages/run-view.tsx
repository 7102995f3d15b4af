/** @jsxImportSource preact */
import type { RunDto } from "@raptscallions/core";
import { useEffect, useRef, useState } from "preact/hooks";
import { errorText, useSigned } from "../context.ts";
import { useLoad, useRoom } from "../hooks.ts";
import { renderMarkdown } from "../markdown.ts";
import { Link } from "../router.tsx";

const STATE_TEXT: Record<RunDto["state"], string> = {
  running: "Writing…",
  complete: "Finished",
  stopped: "Stopped before it was finished",
  failed: "Could not be finished",
  interrupted: "Interrupted: the server stopped mid-run",
};

/**
 * One run, live, through its room: the output so far on joining (the room's snapshot), then the
 * rest as it streams; reconnects resume by offset (the client). Whoever may see the run may stop it.
 */
export function RunView(props: { runId: string; onFinished?: (run: RunDto) => void }) {
  const { client } = useSigned();
  const room = useRoom(client, `run:${props.runId}`);
  const [error, setError] = useState<string | null>(null);
  const [stopping, setStopping] = useState(false);
  const run = room?.run ?? null;
  const finished = run !== null && run.state !== "running";

  useEffect(() => {
    if (run && finished) props.onFinished?.(run);
  }, [finished, run?.id]);

  if (!room || (!run && room.status !== "error")) return <p role="status">Opening the run…</p>;
  if (!run) return <p role="alert">{room.error?.message ?? "This run cannot be opened."}</p>;

  async function stop() {
    setStopping(true);
    setError(null);
    try {
      await client.stopRun(props.runId);
    } catch (err) {
      setError(errorText(err));
      setStopping(false);
    }
  }

  const blocked = run.state === "failed" && typeof run.meta.error === "object" && run.meta.error !== null ? (run.meta.error as { message?: string }).message : null;
  return (
    <section class="run" aria-labelledby={`run-${run.id}`} data-testid="run" data-run-id={run.id} data-state={run.state}>
      <h2 id={`run-${run.id}`}>Result</h2>
      <p class="muted">
        <span data-testid="run-state" data-state={run.state}>
          {STATE_TEXT[run.state]}
        </span>
        {room.status === "resyncing" ? " · catching up…" : null}
      </p>
      {run.state === "running" ? (
        <div class="toolbar">
          <button type="button" class="danger" data-testid="run-stop" disabled={stopping} onClick={() => void stop()}>
            {stopping ? "Stopping…" : "Stop"}
          </button>
        </div>
      ) : null}
      {error ? <p role="alert">{error}</p> : null}
      {blocked ? <p>{blocked}</p> : null}
      {/* Not a live region (it would read every token): the announcer says when it is done. */}
      <div class="run-output md" data-testid="run-output" tabIndex={0} aria-label="Output" dangerouslySetInnerHTML={{ __html: renderMarkdown(run.output) }} />
      <RunAnnouncer run={run} />
    </section>
  );
}

/** A polite live region that announces the run once it is final, never token by token. */
function RunAnnouncer(props: { run: RunDto }) {
  const seen = useRef<RunDto["state"] | null>(null);
  const [text, setText] = useState("");
  useEffect(() => {
    const before = seen.current;
    seen.current = props.run.state;
    // What was final on arrival is history, not news.
    if (before === "running" && props.run.state !== "running") setText(`${STATE_TEXT[props.run.state]}: ${props.run.output.slice(0, 400)}`);
  }, [props.run.state]);
  return (
    <div class="sr-only" aria-live="polite" role="status" data-testid="run-announcer">
      {text}
    </div>
  );
}

/** `/runs/:id`: one run on its own page (where alert emails about a run link to). */
export function RunPage(props: { runId: string }) {
  const { client } = useSigned();
  const [loaded] = useLoad(() => client.rest("getRun", { params: { id: props.runId } }), [props.runId]);
  const [tool] = useLoad(() => (loaded.status === "ok" ? client.rest("getTool", { params: { id: loaded.value.run.toolId } }) : Promise.resolve(null)), [loaded.status]);
  const toolName = tool.status === "ok" && tool.value ? tool.value.name : "a product tool";
  return (
    <>
      <h1 tabIndex={-1}>Run of {toolName}</h1>
      <p>
        <Link to="/products">Back to product tools</Link>
      </p>
      {loaded.status === "error" ? <p role="alert">{loaded.message}</p> : null}
      {loaded.status === "ok" ? <RunInputs input={loaded.value.run.input} /> : null}
      {loaded.status === "ok" ? <RunView runId={props.runId} /> : null}
    </>
  );
}

/** What the run was asked for (as stored: redacted where the school's settings say so). */
export function RunInputs(props: { input: Record<string, unknown> }) {
  const entries = Object.entries(props.input);
  if (entries.length === 0) return null;
  return (
    <dl class="run-inputs">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === "boolean" ? (v ? "yes" : "no") : String(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
