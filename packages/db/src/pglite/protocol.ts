/**
 * Messages between the API process (host-client.ts) and the child process that owns PGlite
 * (host.ts), over Bun's IPC channel with structured-clone ("advanced") serialisation.
 */

export type HostRequest = { type: "init"; dataDir?: string | undefined; loadDataDir?: ArrayBuffer | undefined } | { type: "call"; id: number; call: HostCall };

export type HostCall =
  | { op: "query"; sql: string; params: unknown[]; rowMode: "array" | "object"; rawTypes: number[] }
  | { op: "exec"; sql: string }
  | { op: "dump" }
  | { op: "close" };

/** A Postgres error's fields (code, constraint, detail…) survive the trip; its class does not. */
export interface SerializedError {
  message: string;
  /** Set when the host's own guard raised a domain error (DATABASE_UNAVAILABLE). */
  appCode?: string;
  fields: Record<string, unknown>;
}

export type HostResponse =
  | { type: "ready" }
  | { type: "init-failed"; error: SerializedError }
  | { type: "result"; id: number; value: unknown }
  | { type: "error"; id: number; error: SerializedError }
  /** The backend was aborted mid-statement; the host will take no more statements. */
  | { type: "aborted"; reason: string };

/** Field result shape PGlite returns, as far as the client needs it. */
export interface WireResults {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}
