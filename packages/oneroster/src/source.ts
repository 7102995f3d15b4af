/**
 * What a roster source (a CSV bundle, a OneRoster REST server) offers the sync: records of one
 * entity at a time, page by page, with the records it could not read reported beside them.
 */
import type { RosterEntity, RosterRecords } from "./records.ts";

/** A record the source could not turn into a valid record: logged with where it came from, skipped. */
export interface RejectedRecord {
  entity: RosterEntity;
  /** When the bad record still had one. */
  sourcedId?: string;
  /** The CSV file the row came from (`users.csv`, or `roles.csv` for a user's role row). */
  file?: string;
  /** 1-based line in that CSV file (the header is line 1). */
  line?: number;
  reason: string;
}

export interface RosterPage<E extends RosterEntity> {
  records: RosterRecords[E][];
  rejected: RejectedRecord[];
}

export interface ReadOptions {
  /** A delta: only records with `dateLastModified` after this instant. Absent: everything. */
  since?: Date;
  signal?: AbortSignal;
}

/**
 * How complete a read of one entity is: `bulk` lists every record that exists (whatever is missing
 * was removed), `delta` lists changes only, `absent` says nothing about that entity.
 */
export type ReadMode = "bulk" | "delta" | "absent";

export interface RosterSource {
  /** `since` given and honoured → "delta"; a CSV bundle answers from its manifest. */
  mode(entity: RosterEntity, options?: ReadOptions): Promise<ReadMode>;
  /**
   * Pages of one entity. Throws `RosterSourceError` when the source fails (unreachable, credential
   * refused, a page that cannot be read): the sync then applies nothing of that entity.
   */
  read<E extends RosterEntity>(entity: E, options?: ReadOptions): AsyncIterable<RosterPage<E>>;
}

export type RosterSourceFailure = "unreachable" | "unauthorized" | "bad_response" | "bad_bundle";

export class RosterSourceError extends Error {
  override readonly name = "RosterSourceError";
  constructor(
    readonly failure: RosterSourceFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
