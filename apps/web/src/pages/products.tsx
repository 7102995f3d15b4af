/** @jsxImportSource preact */
import type { RunDto, ToolDto } from "@raptscallions/core";
import { useState } from "preact/hooks";
import { rolesOf, useSigned } from "../context.ts";
import { useLoad, useRoom } from "../hooks.ts";
import { Link } from "../router.tsx";
import { RunForm } from "./run-form.tsx";
import { RunView } from "./run-view.tsx";

/**
 * Product tools (a quiz, a worksheet from a form): pick one, fill its form, run it and watch the
 * result stream in, stop it, and find past runs — your own, and a teacher's classes' runs.
 */
export function ProductsPage() {
  const { client, me } = useSigned();
  const roles = rolesOf(me);
  const classes = roles.teaching.length > 0 ? roles.teaching : roles.studying;
  const [tools] = useLoad(() => client.rest("listTools", { query: { limit: 100 } }), []);
  const products: ToolDto[] = tools.status === "ok" ? tools.value.items.filter((t) => t.kind === "product") : [];
  const [toolId, setToolId] = useState<string | null>(null);
  const chosen = toolId ?? products[0]?.id ?? null;
  const [detail] = useLoad(() => (chosen ? client.rest("getTool", { params: { id: chosen } }) : Promise.resolve(null)), [chosen]);
  const [classId, setClassId] = useState<string>(classes[0]?.id ?? "");
  const [current, setCurrent] = useState<string | null>(null);
  const [runsTick, setRunsTick] = useState(0);
  // The previous tool's answer stays until the chosen one's arrives: never show its form meanwhile.
  const tool = detail.status === "ok" && detail.value?.id === chosen ? detail.value : null;

  return (
    <>
      <h1 tabIndex={-1}>Product tools</h1>
      {tools.status === "loading" ? <p role="status">Loading tools…</p> : null}
      {tools.status === "error" ? <p role="alert">{tools.message}</p> : null}
      {tools.status === "ok" && products.length === 0 ? <p>No product tools are available to you yet.</p> : null}
      {products.length > 0 ? (
        <div class="toolbar" role="group" aria-label="Choose a tool">
          {products.map((t) => (
            <button
              type="button"
              key={t.id}
              aria-pressed={chosen === t.id}
              data-testid="product-tool"
              onClick={() => {
                setToolId(t.id);
                setCurrent(null);
              }}
            >
              {t.name}
            </button>
          ))}
        </div>
      ) : null}
      {detail.status === "error" ? <p role="alert">{detail.message}</p> : null}
      {chosen && !tool && detail.status !== "error" ? <p role="status">Loading the form…</p> : null}
      {tool?.latest.form ? (
        <section aria-labelledby="product-form-heading">
          <h2 id="product-form-heading">{tool.name}</h2>
          {classes.length > 0 ? (
            <div class="form-field narrow">
              <label for="run-class">Class</label>
              <select id="run-class" value={classId} onChange={(e) => setClassId(e.currentTarget.value)}>
                {classes.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
                <option value="">No class (just for me)</option>
              </select>
            </div>
          ) : null}
          <RunForm
            key={tool.id}
            toolId={tool.id}
            toolName={tool.name}
            form={tool.latest.form}
            classId={classId || null}
            onStarted={(run) => {
              setCurrent(run.id);
              setRunsTick((t) => t + 1);
            }}
          />
        </section>
      ) : null}
      {current ? <RunView key={current} runId={current} onFinished={() => setRunsTick((t) => t + 1)} /> : null}
      <PastRuns tick={runsTick} tools={products} />
    </>
  );
}

/** The caller's own runs, or — for a teacher who picks a class — the class's runs. */
function PastRuns(props: { tick: number; tools: ToolDto[] }) {
  const { client, me } = useSigned();
  const teaching = rolesOf(me).teaching;
  const [scope, setScope] = useState("");
  // A class's runs: its room announces each run that finishes (`run.completed`), which reloads the list.
  const classRoom = useRoom(client, scope ? `class:${scope}` : null);
  const finished = Object.keys(classRoom?.runs ?? {}).length;
  const [runs, reload] = useLoad(() => client.rest("listRuns", { query: { limit: 20, ...(scope ? { classId: scope } : {}) } }), [scope, props.tick, finished]);
  const names = new Map(props.tools.map((t) => [t.id, t.name]));
  return (
    <section aria-labelledby="past-runs-heading" data-testid="past-runs">
      <h2 id="past-runs-heading">Past runs</h2>
      <div class="toolbar">
        {teaching.length > 0 ? (
          <>
            <label for="runs-scope">Show</label>
            <select id="runs-scope" value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
              <option value="">My runs</option>
              {teaching.map((c) => (
                <option key={c.id} value={c.id}>
                  Runs in {c.name}
                </option>
              ))}
            </select>
          </>
        ) : null}
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      {runs.status === "error" ? <p role="alert">{runs.message}</p> : null}
      {runs.status === "ok" && runs.value.items.length === 0 ? <p>No runs yet.</p> : null}
      {runs.status === "ok" && runs.value.items.length > 0 ? (
        <table>
          <caption class="sr-only">Past runs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Tool</th>
              <th scope="col">Started</th>
              <th scope="col">State</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {runs.value.items.map((r: RunDto) => (
              <tr key={r.id} data-testid="past-run" data-run-id={r.id} data-state={r.state}>
                <td>{names.get(r.toolId) ?? "A product tool"}</td>
                <td>
                  <time dateTime={r.createdAt}>{new Date(r.createdAt).toLocaleString()}</time>
                </td>
                <td>{r.state}</td>
                <td>
                  <Link to={`/runs/${r.id}`}>Open the run of {new Date(r.createdAt).toLocaleTimeString()}</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
