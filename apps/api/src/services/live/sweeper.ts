import type { Bus, ReplayResult } from "@raptscallions/bus";
import type { Logger } from "../../lib/logger.ts";
import type { Orphan, OrphanKind, SweepDeps } from "./orphan-kind.ts";
import { orphanedAnswers } from "./orphaned-answers.ts";
import { orphanedRuns } from "./orphaned-runs.ts";
import { retryFailedSettles } from "./settle-retry.ts";

const KINDS: readonly OrphanKind[] = [orphanedAnswers, orphanedRuns];

/**
 * Finalises what a dead instance left streaming — chat answers and product tool runs alike: a row
 * whose heartbeat is older than `staleAfterMs` ends `interrupted`, and watchers are told. Its text
 * is the last checkpoint extended by the deltas the room's replay buffer still holds after it, so
 * the stored text holds everything any watcher was shown (the dead instance may have published for
 * up to a checkpoint interval past its last write). Run as the `sweeper` job (one instance at a
 * time); the conditional updates would still let only one of two overlapping sweeps finalise a row.
 * Each sweep first retries the limit settles earlier sweeps could not make (settle-retry.ts).
 */
export async function sweepInterruptedStreams(deps: SweepDeps & { staleAfterMs: number }): Promise<number> {
  try {
    await retryFailedSettles(deps);
  } catch (err) {
    deps.logger.warn("retrying failed settles failed; the next sweep tries again", { err });
  }
  const cutoff = new Date(deps.clock.now().getTime() - deps.staleAfterMs);
  let finalised = 0;
  for (const kind of KINDS) {
    for (const orphan of await kind.stale(deps.db, cutoff)) {
      const content = await textShown(deps.bus, deps.logger, kind, orphan);
      if (await kind.finalise(deps, orphan, content, cutoff)) finalised += 1;
    }
  }
  return finalised;
}

/**
 * The checkpointed text plus every later delta of this row still in the room's replay buffer,
 * applied by `charOffset` (a delta overlapping the text contributes only its new part; a gap ends
 * the rebuild). Without a checkpoint position, or when the buffer no longer reaches back to it,
 * the checkpoint alone is what can be proven.
 */
async function textShown(bus: Bus, logger: Logger, kind: OrphanKind, row: Orphan): Promise<string> {
  if (row.checkpointOffset === null || row.checkpointEpoch === null) return row.content;
  let replay: ReplayResult;
  try {
    replay = await bus.replay(row.room, row.checkpointOffset, row.checkpointEpoch);
  } catch (err) {
    logger.warn("replay for an interrupted stream failed; keeping its checkpoint", { kind: kind.name, id: row.id, err });
    return row.content;
  }
  if (replay.kind !== "events") return row.content;
  let text = row.content;
  for (const event of replay.events) {
    const delta = kind.deltaOf(event, row.id);
    if (!delta) continue;
    if (delta.charOffset > text.length) break;
    text += delta.text.slice(text.length - delta.charOffset);
  }
  return text;
}
