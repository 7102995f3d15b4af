import { createOneRosterRestSource, type RosterSource } from "@raptscallions/oneroster";
import type { AppConfig } from "../../deps.ts";
import { defaultRosterConfig, type RestConnectionSettings, type RosterConfig } from "../../lib/roster-config.ts";

const defaults = new WeakMap<AppConfig, RosterConfig>();

/** The app's roster settings, or the development defaults when it has none (tests, embedded). */
export function rosterConfigOf(config: AppConfig): RosterConfig {
  if (config.roster) return config.roster;
  let found = defaults.get(config);
  if (!found) {
    found = defaultRosterConfig({
      openRestSource: openOneRosterRestSource,
    });
    defaults.set(config, found);
  }
  return found;
}

/** A OneRoster 1.2 REST server as a source. */
export function openOneRosterRestSource(settings: RestConnectionSettings): RosterSource {
  return createOneRosterRestSource(settings);
}
