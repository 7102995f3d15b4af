import { RosterSourceError } from "@raptscallions/oneroster";
import type { AppConfig } from "../../deps.ts";
import { defaultRosterConfig, type RosterConfig } from "../../lib/roster-config.ts";

const defaults = new WeakMap<AppConfig, RosterConfig>();

/** The app's roster settings, or the development defaults when it has none (tests, embedded). */
export function rosterConfigOf(config: AppConfig): RosterConfig {
  if (config.roster) return config.roster;
  let found = defaults.get(config);
  if (!found) {
    found = defaultRosterConfig({
      openRestSource: () => {
        throw new RosterSourceError("unreachable", "no OneRoster REST client is configured");
      },
    });
    defaults.set(config, found);
  }
  return found;
}
