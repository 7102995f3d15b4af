import { ValidationError } from "@raptscallions/core";
import { builtInModules } from "./registry.ts";
import type { ContentModule, ResolvedModuleConfig, ResolvedModuleConfigs } from "./types.ts";

/** One layer of module settings as stored on the system, a group or a tool: `{ [moduleId]: settings }`. */
export type ModuleConfigLayer = Record<string, unknown>;

// Keys that would rewrite an object's prototype if merged by assignment; JSON from a database can carry them.
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function mergeSettings(base: Record<string, unknown>, over: Record<string, unknown>, unionKeys: ReadonlySet<string>, topLevel: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    if (topLevel && unionKeys.has(key) && Array.isArray(prev) && Array.isArray(value)) {
      out[key] = [...new Set([...prev, ...value])];
    } else if (isPlainObject(prev) && isPlainObject(value)) {
      out[key] = mergeSettings(prev, value, unionKeys, false);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function findForbiddenKey(value: unknown, path: string[]): string[] | undefined {
  if (!isPlainObject(value)) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) return [...path, key];
    const inner = findForbiddenKey(child, [...path, key]);
    if (inner) return inner;
  }
  return undefined;
}

function fail(message: string, details: Record<string, unknown>): never {
  throw new ValidationError(message, details);
}

/**
 * Checks one stored layer's shape without resolving: a plain object keyed by known module ids,
 * each value a settings object (or a boolean as shorthand for `{ enabled }`). Call this when an
 * admin saves settings so a typo is refused at write time rather than breaking every chat turn.
 */
export function validateModuleConfigLayer(layer: unknown, modules: readonly ContentModule[] = builtInModules, layerIndex = 0): ModuleConfigLayer | undefined {
  if (layer === undefined || layer === null) return undefined;
  if (!isPlainObject(layer)) {
    fail(`Module settings at layer ${layerIndex} must be an object keyed by module id`, {
      layer: layerIndex,
    });
  }
  const known = new Set(modules.map((m) => m.id));
  for (const [moduleId, value] of Object.entries(layer)) {
    if (!known.has(moduleId)) {
      fail(`Unknown content module "${moduleId}" in settings at layer ${layerIndex}`, {
        layer: layerIndex,
        module: moduleId,
        knownModules: [...known],
      });
    }
    if (typeof value === "boolean" || value === undefined || value === null) continue;
    if (!isPlainObject(value)) {
      fail(`Settings for "${moduleId}" at layer ${layerIndex} must be an object`, {
        layer: layerIndex,
        module: moduleId,
      });
    }
    const forbidden = findForbiddenKey(value, []);
    if (forbidden) {
      fail(`Settings for "${moduleId}" at layer ${layerIndex} use a reserved key`, {
        layer: layerIndex,
        module: moduleId,
        path: forbidden,
      });
    }
    if ("enabled" in value && typeof value.enabled !== "boolean") {
      fail(`"enabled" for "${moduleId}" at layer ${layerIndex} must be true or false`, {
        layer: layerIndex,
        module: moduleId,
      });
    }
  }
  return layer;
}

/**
 * Resolves every module's config from layers ordered most general first: system → root group →
 * … → nearest group → tool. Later layers override earlier ones key by key (nested objects merge,
 * arrays replace — except a module's `unionKeys`, which accumulate). `enabled: false` at any layer
 * disables the module unless a later layer sets `enabled: true` again. Each module's merged
 * settings are validated by its `configSchema` after every layer, so an error names the first
 * layer that made it invalid.
 *
 * @throws AppError VALIDATION_FAILED with `details: { layer, module, issues }`.
 */
export function resolveModuleConfig(
  layers: ReadonlyArray<Record<string, unknown> | undefined>,
  modules: readonly ContentModule[] = builtInModules,
): ResolvedModuleConfigs {
  const checked = layers.map((layer, i) => validateModuleConfigLayer(layer, modules, i));
  const resolved: ResolvedModuleConfigs = {};
  for (const module of modules) {
    const unionKeys = new Set(module.unionKeys ?? []);
    let enabled = true;
    let settings: Record<string, unknown> = {};
    let config: unknown = parseOrFail(module, settings, -1);
    checked.forEach((layer, i) => {
      const raw = layer?.[module.id];
      if (raw === undefined || raw === null) return;
      if (typeof raw === "boolean") {
        enabled = raw;
        return;
      }
      if (!isPlainObject(raw)) return; // validateModuleConfigLayer already refused this
      const { enabled: layerEnabled, ...rest } = raw;
      if (typeof layerEnabled === "boolean") enabled = layerEnabled;
      settings = mergeSettings(settings, rest, unionKeys, true);
      config = parseOrFail(module, settings, i);
    });
    const entry: ResolvedModuleConfig = { enabled, config };
    resolved[module.id] = entry;
  }
  return resolved;
}

function parseOrFail(module: ContentModule, settings: Record<string, unknown>, layer: number): unknown {
  const result = module.configSchema.safeParse(settings);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
  const first = issues[0];
  const where = first?.path ? ` (${first.path}: ${first.message})` : first ? ` (${first.message})` : "";
  fail(`Invalid settings for content module "${module.id}" at layer ${layer}${where}`, {
    layer,
    module: module.id,
    issues,
  });
}
