import { type DbOrTx, groups, toolVersions } from "@raptscallions/db";
import { type ModuleConfigLayer, type ResolvedModuleConfigs, resolveModuleConfig } from "@raptscallions/modules";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Logger } from "../../lib/logger.ts";

/** Where one config layer came from, for logs when a stored layer is refused. */
export interface ModuleLayerSource {
  source: "system" | "group" | "tool";
  id: string | null;
  layer: ModuleConfigLayer | undefined;
}

function asLayer(value: unknown): ModuleConfigLayer | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as ModuleConfigLayer) : undefined;
}

/**
 * The layers that configure the modules for a session, most general first: system defaults →
 * each group from the root down to the session's group (`settings.modules`) → the tool version's
 * `definition.modules`.
 */
export function layersOf(
  chain: ReadonlyArray<{ id: string; settings: { modules?: unknown } }>,
  input: { toolModules: unknown; system?: ModuleConfigLayer | undefined },
): ModuleLayerSource[] {
  return [
    { source: "system", id: null, layer: input.system },
    ...chain.map((g) => ({ source: "group" as const, id: g.id, layer: asLayer(g.settings.modules) })),
    { source: "tool", id: null, layer: asLayer(input.toolModules) },
  ];
}

/** Reads the group chain of {@link layersOf} (root first). */
export async function loadModuleLayers(
  db: DbOrTx,
  input: { groupId: string; toolModules: unknown; system?: ModuleConfigLayer | undefined },
): Promise<ModuleLayerSource[]> {
  const chain = await db
    .select({ id: groups.id, settings: groups.settings })
    .from(groups)
    .where(sql`${groups.path} @> (select g.path from ${groups} g where g.id = ${input.groupId})`)
    .orderBy(asc(sql`nlevel(${groups.path})`));
  return layersOf(chain, input);
}

// Resolving validates every layer with the modules' schemas; the same few setting combinations
// come back on every turn, so valid resolutions are remembered by the layers' JSON (bounded, least
// recently used dropped first) and handed out frozen, so no caller can change a shared one.
const MAX_RESOLVED = 500;
const resolved = new Map<string, ResolvedModuleConfigs>();

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Resolves the layers, refusing (and logging) any stored layer that is invalid instead of failing
 * every chat turn: a typo in one school's settings must neither lock students out nor switch
 * safety off. A refused layer is skipped whole; the layers around it still apply, and a module
 * stays on with its defaults unless a valid layer turns it off.
 */
export function resolveLayers(layers: ModuleLayerSource[], logger: Logger): ResolvedModuleConfigs {
  const present = layers.filter((l) => l.layer !== undefined);
  const key = JSON.stringify(present.map((l) => l.layer));
  const known = resolved.get(key);
  if (known) {
    resolved.delete(key);
    resolved.set(key, known);
    return known;
  }
  try {
    const configs = deepFreeze(resolveModuleConfig(present.map((l) => l.layer)));
    resolved.set(key, configs);
    if (resolved.size > MAX_RESOLVED) {
      const oldest = resolved.keys().next();
      if (!oldest.done) resolved.delete(oldest.value);
    }
    return configs;
  } catch {
    // Fall through to find the culprit(s) layer by layer.
  }
  const accepted: ModuleLayerSource[] = [];
  for (const layer of present) {
    try {
      resolveModuleConfig([...accepted, layer].map((l) => l.layer));
      accepted.push(layer);
    } catch (err) {
      logger.error("invalid module settings ignored", { source: layer.source, id: layer.id, err });
    }
  }
  return resolveModuleConfig(accepted.map((l) => l.layer));
}

/** Loads and resolves the module configs of a session's group and tool. */
export async function resolveSessionModules(
  db: DbOrTx,
  logger: Logger,
  input: { groupId: string; toolModules: unknown; system?: ModuleConfigLayer | undefined },
): Promise<ResolvedModuleConfigs> {
  return resolveLayers(await loadModuleLayers(db, input), logger);
}

/** The modules section of a tool version's definition, for hooks that only know the session. */
export async function toolModulesOf(db: DbOrTx, toolId: string, version: number): Promise<unknown> {
  const [row] = await db
    .select({ definition: toolVersions.definition })
    .from(toolVersions)
    .where(and(eq(toolVersions.toolId, toolId), eq(toolVersions.version, version)));
  return row?.definition.modules;
}
