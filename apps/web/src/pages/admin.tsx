/** @jsxImportSource preact */
import type { GroupDto } from "@raptscallions/core";
import { useState } from "preact/hooks";
import { useSigned } from "../context.ts";
import { useLoad } from "../hooks.ts";
import { Link } from "../router.tsx";
import { StudentData } from "./student-data.tsx";
import { ThemeEditor } from "./theme-editor.tsx";

interface Node {
  group: GroupDto;
  children: Node[];
}

function treeOf(groups: GroupDto[]): Node[] {
  const nodes = new Map(groups.map((g) => [g.id, { group: g, children: [] as Node[] }]));
  const roots: Node[] = [];
  for (const n of nodes.values()) {
    const parent = n.group.parentId ? nodes.get(n.group.parentId) : undefined;
    (parent ? parent.children : roots).push(n);
  }
  return roots;
}

/** Admins: the group tree; for the chosen group its classes, usage and theme. */
export function AdminPage() {
  const { client, me } = useSigned();
  const [groups] = useLoad(() => client.rest("listGroups", { query: { limit: 200 } }), []);
  const [selected, setSelected] = useState<string | null>(me.groups.find((g) => g.role === "admin")?.id ?? null);

  // A plain function, not a component: a component defined here would remount (and drop focus) on every render.
  function tree(nodes: Node[]) {
    return (
      <ul>
        {nodes.map((n) => (
          <li key={n.group.id}>
            <button type="button" aria-pressed={selected === n.group.id} onClick={() => setSelected(n.group.id)}>
              {n.group.name} <span class="muted">({n.group.kind})</span>
            </button>
            {n.children.length > 0 ? tree(n.children) : null}
          </li>
        ))}
      </ul>
    );
  }

  const chosen = groups.status === "ok" ? groups.value.items.find((g) => g.id === selected) : undefined;
  return (
    <div class="admin">
      <h1 tabIndex={-1}>Administration</h1>
      <div class="columns">
        <nav aria-labelledby="tree-heading" class="tree">
          <h2 id="tree-heading">Groups</h2>
          {groups.status === "ok" ? tree(treeOf(groups.value.items)) : groups.status === "error" ? <p role="alert">{groups.message}</p> : <p role="status">Loading…</p>}
        </nav>
        <div>
          {chosen ? (
            <>
              <h2>{chosen.name}</h2>
              <GroupClasses groupId={chosen.id} />
              <Usage groupId={chosen.id} />
              <StudentData />
              <ThemeEditor key={chosen.id} groupId={chosen.id} groupName={chosen.name} />
            </>
          ) : (
            <p>Choose a group.</p>
          )}
        </div>
      </div>
    </div>
  );
}

function GroupClasses(props: { groupId: string }) {
  const { client } = useSigned();
  const [classes] = useLoad(() => client.rest("listClasses", { query: { groupId: props.groupId, limit: 200 } }), [props.groupId]);
  return (
    <section aria-labelledby="classes-heading">
      <h3 id="classes-heading">Classes</h3>
      {classes.status === "ok" ? (
        classes.value.items.length === 0 ? (
          <p>No classes in this group.</p>
        ) : (
          <ul>
            {classes.value.items.map((c) => (
              <li key={c.id}>
                <Link to={`/classes/${c.id}`}>{c.name}</Link> {c.term ? <span class="muted">({c.term})</span> : null}
              </li>
            ))}
          </ul>
        )
      ) : classes.status === "error" ? (
        <p role="alert">{classes.message}</p>
      ) : (
        <p role="status">Loading…</p>
      )}
    </section>
  );
}

const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;

function Usage(props: { groupId: string }) {
  const { client } = useSigned();
  const [usage] = useLoad(() => client.rest("usageSummary", { query: { groupId: props.groupId, groupBy: "model" } }), [props.groupId]);
  return (
    <section aria-labelledby="usage-heading">
      <h3 id="usage-heading">AI usage, last 30 days</h3>
      {usage.status === "ok" ? (
        <>
          <p>
            {usage.value.totals.requests} requests · {usage.value.totals.inputTokens + usage.value.totals.outputTokens} tokens · {usd(usage.value.totals.costUsd)}
          </p>
          {usage.value.buckets.length > 0 ? (
            <table>
              <caption class="sr-only">Usage by model</caption>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Requests</th>
                  <th scope="col">Tokens in / out</th>
                  <th scope="col">Cost</th>
                </tr>
              </thead>
              <tbody>
                {usage.value.buckets.map((b) => (
                  <tr key={b.key ?? "unknown"}>
                    <th scope="row">{b.label ?? b.key ?? "unknown"}</th>
                    <td>{b.requests}</td>
                    <td>
                      {b.inputTokens} / {b.outputTokens}
                    </td>
                    <td>{usd(b.costUsd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ) : usage.status === "error" ? (
        <p role="alert">{usage.message}</p>
      ) : (
        <p role="status">Loading…</p>
      )}
    </section>
  );
}
