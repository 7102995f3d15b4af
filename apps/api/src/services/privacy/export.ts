import { Zip, ZipDeflate } from "fflate";
import type { ServiceContext } from "../context.ts";
import { recordAudit } from "../audit/record.ts";
import { type ExportEntity, exportEntities } from "./export-entities.ts";
import { assertMayExport, requireStudentInReach, type UserRow } from "./scope.ts";

/** Rows per query while exporting: memory stays flat however long the history is. */
export const EXPORT_PAGE_ROWS = 500;

export interface StudentExport {
  fileName: string;
  body: ReadableStream<Uint8Array>;
}

const encoder = new TextEncoder();

/**
 * Everything held about one student, as a zip archive streamed while it is read: one JSON file per
 * table (`profile.json`, `sessions.json`, `messages.json`, …) and a human-readable `README.txt`.
 * Only admins over a group the student has data in may export (for an under-13 student that is
 * the rule, not just the current state: `policy.canExportStudent`); the export is audited before
 * the first byte leaves, with who asked and whom it was about. Rows are read a page at a time,
 * one page per chunk the client pulls, so a slow download holds one page, not the history.
 */
export async function exportStudent({ ctx, input }: { ctx: ServiceContext; input: { userId: string } }): Promise<StudentExport> {
  const scope = await requireStudentInReach(ctx.db, ctx.actor, input.userId);
  assertMayExport(ctx.actor, scope);
  const startedAt = ctx.clock.now();
  await recordAudit(ctx.db, ctx, {
    action: "privacy.export",
    targetType: "user",
    targetId: scope.user.id,
    groupId: scope.inReach[0]?.id ?? null,
    details: { under13: scope.user.under13, groups: scope.inReach.length },
  });
  const entities = exportEntities(ctx.db, ctx.actor, scope.user.id);
  const body = zipStream(archiveParts(scope.user, entities, { startedAt, by: ctx.actor.userId, systemAdmin: ctx.actor.isSystemAdmin }), (err) =>
    ctx.logger.error("student export failed while streaming", { userId: scope.user.id, err }),
  );
  return { fileName: `student-${scope.user.id}-${startedAt.toISOString().slice(0, 10)}.zip`, body };
}

/** One file's worth of bytes at a time: `name` starts a file, `data` appends to it, `end` closes it. */
type Part = { name: string } | { data: string } | { end: true };

async function* archiveParts(user: UserRow, entities: ExportEntity[], meta: { startedAt: Date; by: string; systemAdmin: boolean }): AsyncGenerator<Part> {
  yield { name: "profile.json" };
  yield { data: `${JSON.stringify(user, null, 2)}\n` };
  yield { end: true };
  const counts: [ExportEntity, number][] = [];
  for (const entity of entities) {
    yield { name: entity.file };
    let count = 0;
    let after: ReturnType<ExportEntity["key"]> | null = null;
    yield { data: "[" };
    for (;;) {
      const rows = await entity.page(after, EXPORT_PAGE_ROWS);
      if (rows.length === 0) break;
      yield { data: rows.map((r, i) => `${count + i === 0 ? "\n" : ",\n"}${JSON.stringify(r)}`).join("") };
      count += rows.length;
      const last = rows[rows.length - 1];
      if (!last || rows.length < EXPORT_PAGE_ROWS) break;
      after = entity.key(last);
    }
    yield { data: count === 0 ? "]\n" : "\n]\n" };
    yield { end: true };
    counts.push([entity, count]);
  }
  yield { name: "README.txt" };
  yield { data: summary(user, counts, meta) };
  yield { end: true };
}

function summary(user: UserRow, counts: [ExportEntity, number][], meta: { startedAt: Date; by: string; systemAdmin: boolean }): string {
  const width = Math.max(...counts.map(([e]) => e.file.length), "profile.json".length);
  return [
    `Everything held about ${user.name ?? "this student"} (id ${user.id})`,
    `Exported ${meta.startedAt.toISOString()} by admin ${meta.by}.`,
    meta.systemAdmin ? "Scope: every group (system admin)." : "Scope: the groups the exporting admin administers; other districts' records are not included.",
    user.under13 ? "This student is marked under 13: this archive may only be handed to the family or the district's privacy officer." : "",
    "",
    "Files (JSON; times are UTC, ids are this system's):",
    `  ${"profile.json".padEnd(width)}  the account: name, email, sign-in id, student information system id, status`,
    ...counts.map(([e, n]) => `  ${e.file.padEnd(width)}  ${String(n).padStart(6)} row${n === 1 ? " " : "s"}  ${e.describe}`),
    "",
    "Rows written while the export ran may or may not be included. The export itself is recorded in the audit log.",
    "",
  ]
    .filter((line, i, all) => line !== "" || all[i - 1] !== "")
    .join("\n");
}

/**
 * Drives `parts` into fflate's streaming zip writer on demand: each `pull` advances the
 * generator until the writer has produced bytes, so reading happens at the client's pace.
 * fflate because it is already a dependency, is small, has no native parts, runs on any
 * Web-standard runtime, and its `Zip`/`ZipDeflate` compress file by file as data is pushed.
 */
function zipStream(parts: AsyncGenerator<Part>, onError: (err: unknown) => void): ReadableStream<Uint8Array> {
  const ready: Uint8Array[] = [];
  let finished = false;
  let failure: unknown = null;
  const zip = new Zip((err, chunk, final) => {
    if (err) failure = err;
    else {
      ready.push(chunk);
      if (final) finished = true;
    }
  });
  let file: ZipDeflate | null = null;
  let ended = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        while (ready.length === 0 && !finished && failure === null) {
          const next = await parts.next();
          if (next.done) {
            if (ended) throw new Error("the zip writer ended without its final chunk");
            ended = true;
            zip.end();
            continue;
          }
          const part = next.value;
          if ("name" in part) {
            file = new ZipDeflate(part.name, { level: 6 });
            zip.add(file);
          } else if ("data" in part) file?.push(encoder.encode(part.data));
          else file?.push(new Uint8Array(0), true);
        }
        if (failure !== null) throw failure;
        for (const chunk of ready.splice(0)) controller.enqueue(chunk);
        if (finished) controller.close();
      } catch (err) {
        onError(err);
        controller.error(err);
        await parts.return(undefined);
      }
    },
    async cancel() {
      zip.terminate();
      await parts.return(undefined);
    },
  });
}
