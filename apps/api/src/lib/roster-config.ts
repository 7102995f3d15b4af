import type { RosterSource } from "@raptscallions/oneroster";
import { createRosterKeyring, DEV_ROSTER_CREDENTIALS_KEY, type RosterKeyring } from "./roster-credentials.ts";

/** What a REST connection's source is opened with (the secret decrypted just for the run). */
export interface RestConnectionSettings {
  baseUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

/** Roster sync settings of the app (see docs/roster.md). */
export interface RosterConfig {
  /** Keys of the connection secrets (the current one encrypts; older ones still decrypt). */
  keyring: () => Promise<RosterKeyring>;
  /** Whether the keyring is the public development key (server.ts warns). */
  devKey: boolean;
  /** Largest CSV bundle an upload may send. */
  uploadLimitBytes: number;
  /** How often the scheduler looks for due REST connections. */
  pollIntervalMs: number;
  /** Opens a OneRoster REST server as a source; tests point it at their own server or a fetch. */
  openRestSource: (settings: RestConnectionSettings) => RosterSource;
}

export const DEFAULT_ROSTER_UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024;

/**
 * The settings with the given keys (base64, 32 bytes), or the development key when none is set.
 * The keyring is imported once, on first use.
 */
export function defaultRosterConfig(opts: {
  key?: string | undefined;
  previousKeys?: string[];
  uploadLimitBytes?: number;
  pollIntervalMs?: number;
  openRestSource: RosterConfig["openRestSource"];
}): RosterConfig {
  let ring: Promise<RosterKeyring> | null = null;
  const key = opts.key ?? DEV_ROSTER_CREDENTIALS_KEY;
  return {
    keyring: () => {
      ring ??= createRosterKeyring(key, opts.previousKeys ?? []);
      return ring;
    },
    devKey: key === DEV_ROSTER_CREDENTIALS_KEY,
    uploadLimitBytes: opts.uploadLimitBytes ?? DEFAULT_ROSTER_UPLOAD_LIMIT_BYTES,
    pollIntervalMs: opts.pollIntervalMs ?? 60_000,
    openRestSource: opts.openRestSource,
  };
}
