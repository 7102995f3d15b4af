import { AppError, ConflictError, type RosterRunDto, ValidationError } from "@raptscallions/core";
import { createCsvBundleSource, type RosterSource, RosterSourceError } from "@raptscallions/oneroster";
import { managedConnection, type RosterServiceContext, toRosterRunDto } from "./connections.ts";
import { requireRosterRun } from "./runs.ts";

/**
 * Starts a run of a REST connection now (409 while one is going). Returns it `queued`; its log
 * (`GET …/runs/:runId`) says how it ended.
 */
export async function triggerRosterRun({ ctx, input }: { ctx: RosterServiceContext; input: { id: string; mode?: "full" | "delta" | undefined } }): Promise<RosterRunDto> {
  const connection = await managedConnection(ctx, ctx.db, input.id);
  if (connection.kind === "csv") throw new ValidationError("A CSV connection syncs when a bundle is uploaded to it");
  if (!connection.enabled) throw new ConflictError("This connection is disabled");
  const { run } = await requireRosterRun(ctx, ctx.roster, { connection, trigger: "manual", requestedBy: ctx.actor.userId, mode: input.mode });
  return toRosterRunDto(run);
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/**
 * Syncs a connection from an uploaded OneRoster CSV bundle. The bundle is checked before a run
 * starts: not a zip → 415; a zip that is not a bundle (no manifest, a file it promises missing,
 * a file without its key columns, too large unpacked) → 422. Bad rows inside a good bundle are
 * skipped and listed in the run's log. Returns the run `queued`.
 */
export async function uploadRosterBundle({ ctx, input }: { ctx: RosterServiceContext; input: { id: string; bytes: Uint8Array } }): Promise<RosterRunDto> {
  const connection = await managedConnection(ctx, ctx.db, input.id);
  if (connection.kind !== "csv") throw new ValidationError("Bundles are uploaded to CSV connections; this one reads a OneRoster server");
  if (!connection.enabled) throw new ConflictError("This connection is disabled");
  if (!ZIP_MAGIC.every((b, i) => input.bytes[i] === b)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Expected a OneRoster CSV bundle: a zip file", { details: { reason: "not_zip" } });
  }
  let source: RosterSource;
  try {
    source = createCsvBundleSource(input.bytes);
  } catch (err) {
    if (err instanceof RosterSourceError) throw new ValidationError(`This is not a OneRoster 1.2 CSV bundle: ${err.message}`, { reason: err.failure });
    throw err;
  }
  const { run } = await requireRosterRun(ctx, ctx.roster, { connection, trigger: "upload", requestedBy: ctx.actor.userId, mode: "full", source });
  return toRosterRunDto(run);
}
