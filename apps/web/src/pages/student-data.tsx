/** @jsxImportSource preact */
import type { ErasureResultDto, PrivacyStudentDto, PrivacyStudentSummaryDto } from "@raptscallions/core";
import { useState } from "preact/hooks";
import { useSigned } from "../context.ts";

/**
 * Admins: find a student, download everything held about them, or erase them (after a
 * confirmation that names the policy that will apply). See docs/privacy.md.
 */
export function StudentData() {
  const { client } = useSigned();
  const [q, setQ] = useState("");
  const [found, setFound] = useState<PrivacyStudentSummaryDto[] | null>(null);
  const [chosen, setChosen] = useState<PrivacyStudentDto | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async (what: () => Promise<void>) => {
    setError(null);
    try {
      await what();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const search = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      setChosen(null);
      setFound((await client.rest("listPrivacyStudents", { query: { q: q.trim() || undefined, limit: 20 } })).items);
    });
  };
  const choose = (id: string) =>
    run(async () => {
      setConfirming(false);
      setStatus(null);
      setChosen(await client.rest("getPrivacyStudent", { params: { id } }));
    });
  const exportData = (s: PrivacyStudentDto) =>
    run(async () => {
      setStatus("Preparing the export…");
      const { blob, fileName } = await client.download(`/api/privacy/students/${s.id}/export`);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = fileName ?? `student-${s.id}.zip`;
      link.click();
      URL.revokeObjectURL(link.href);
      setStatus(`Export downloaded (${Math.ceil(blob.size / 1024)} KB).`);
    });
  const erase = (s: PrivacyStudentDto) =>
    run(async () => {
      const result: ErasureResultDto = await client.rest("eraseStudent", { params: { id: s.id } });
      setConfirming(false);
      setFound((list) => list?.filter((x) => x.id !== s.id) ?? null);
      setChosen(null);
      setStatus(
        result.alreadyErased
          ? "This student had already been erased."
          : `Erased (${result.mode}); ${result.closedSessions.length} live session${result.closedSessions.length === 1 ? "" : "s"} ended.`,
      );
    });

  return (
    <section aria-labelledby="student-data-heading">
      <h3 id="student-data-heading">Student data</h3>
      <form onSubmit={search} role="search">
        <label for="student-search">Name or email</label> <input id="student-search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />{" "}
        <button type="submit">Find</button>
      </form>
      {error ? <p role="alert">{error}</p> : null}
      {status ? <p role="status">{status}</p> : null}
      {found ? (
        found.length === 0 ? (
          <p>No student found.</p>
        ) : (
          <ul>
            {found.map((s) => (
              <li key={s.id}>
                <button type="button" aria-pressed={chosen?.id === s.id} onClick={() => void choose(s.id)}>
                  {s.name ?? s.id}
                </button>{" "}
                <span class="muted">{s.email ?? ""}</span>
                {s.under13 ? <span class="muted"> · under 13</span> : null}
              </li>
            ))}
          </ul>
        )
      ) : null}
      {chosen ? (
        <div>
          <h4>{chosen.name ?? chosen.id}</h4>
          <p>
            {chosen.under13 ? "Under 13. " : ""}Classes: {chosen.classes.map((c) => c.name).join(", ") || "none"}. Erasure policy: <strong>{chosen.erasure}</strong>.
          </p>
          <button type="button" onClick={() => void exportData(chosen)}>
            Export everything (zip)
          </button>{" "}
          {confirming ? (
            <span role="group" aria-label="Confirm erasure">
              {chosen.erasure === "delete" ? "Their records will be deleted." : "Their records will be kept without their identity."} This cannot be undone.{" "}
              <button type="button" onClick={() => void erase(chosen)}>
                Yes, erase {chosen.name ?? "this student"}
              </button>{" "}
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" onClick={() => setConfirming(true)}>
              Erase…
            </button>
          )}
        </div>
      ) : null}
    </section>
  );
}
