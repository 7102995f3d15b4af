import {
  DEFAULT_THEME,
  hexColourSchema,
  THEME_ASSET_SLOTS,
  THEME_COLOUR_SLOTS,
  THEME_FIELDS,
  themeAssetRefSchema,
  themeCornerRadiusSchema,
  themeDensitySchema,
  themeFontSchema,
  themeSidebarPositionSchema,
  type ThemeAssetSlot,
  type ThemeField,
  type ThemeOverrides,
  type ThemePatch,
} from "@raptscallions/core";
import type { z } from "zod";

/**
 * Themes are handled field by field (`colors.primary`, `font`, `assets.logo`…): resolution,
 * provenance and merge-patch all work on a flat map, nested only at the edges (storage, JSON).
 */
export type FlatTheme = Partial<Record<ThemeField, string>>;

const FIELD_SCHEMAS = {} as Record<ThemeField, z.ZodType<string>>;
for (const slot of THEME_COLOUR_SLOTS) FIELD_SCHEMAS[`colors.${slot}`] = hexColourSchema;
FIELD_SCHEMAS.font = themeFontSchema;
FIELD_SCHEMAS["layout.density"] = themeDensitySchema;
FIELD_SCHEMAS["layout.cornerRadius"] = themeCornerRadiusSchema;
FIELD_SCHEMAS["layout.sidebarPosition"] = themeSidebarPositionSchema;
for (const slot of THEME_ASSET_SLOTS) FIELD_SCHEMAS[`assets.${slot}`] = themeAssetRefSchema;

function split(field: ThemeField): [string, string | undefined] {
  const dot = field.indexOf(".");
  return dot < 0 ? [field, undefined] : [field.slice(0, dot), field.slice(dot + 1)];
}

function readAt(source: unknown, field: ThemeField): unknown {
  if (typeof source !== "object" || source === null) return undefined;
  const [head, tail] = split(field);
  const first = (source as Record<string, unknown>)[head];
  if (tail === undefined) return first;
  if (typeof first !== "object" || first === null) return undefined;
  return (first as Record<string, unknown>)[tail];
}

/**
 * Reads stored overrides leniently: each field that passes its schema is kept, anything else
 * (written by an older version, or by hand) is dropped rather than breaking every page of the
 * tree below it. Returns the fields that were dropped so the caller can log them.
 */
export function flattenOverrides(raw: unknown): { flat: FlatTheme; dropped: string[] } {
  const flat: FlatTheme = {};
  const dropped: string[] = [];
  for (const field of THEME_FIELDS) {
    const value = readAt(raw, field);
    if (value === undefined) continue;
    const parsed = FIELD_SCHEMAS[field].safeParse(value);
    if (parsed.success) flat[field] = parsed.data;
    else dropped.push(field);
  }
  return { flat, dropped };
}

/** Flat → the nested shape stored in `groups.theme` and shown to clients; `null` when empty. */
export function nestOverrides(flat: FlatTheme): ThemeOverrides | null {
  const out: Record<string, unknown> = {};
  for (const field of THEME_FIELDS) {
    const value = flat[field];
    if (value === undefined) continue;
    const [head, tail] = split(field);
    if (tail === undefined) out[head] = value;
    else out[head] = { ...(out[head] as Record<string, unknown> | undefined), [tail]: value };
  }
  return Object.keys(out).length === 0 ? null : (out as ThemeOverrides);
}

/**
 * JSON merge patch (RFC 7396) on the flat form: a value sets, `null` clears (the field is
 * inherited again), absent leaves alone; `null` for a whole section clears all of it.
 */
export function applyPatch(current: FlatTheme, patch: ThemePatch): FlatTheme {
  const next: FlatTheme = { ...current };
  for (const field of THEME_FIELDS) {
    const [head, tail] = split(field);
    const section = (patch as Record<string, unknown>)[head];
    if (section === undefined) continue;
    const value = tail === undefined || section === null ? section : (section as Record<string, unknown>)[tail];
    if (value === undefined) continue;
    if (value === null) delete next[field];
    else next[field] = value as string;
  }
  return next;
}

/** Asset ids a flat theme refers to, by slot (`"none"` is not a reference). */
export function assetRefs(flat: FlatTheme): { slot: ThemeAssetSlot; assetId: string }[] {
  return THEME_ASSET_SLOTS.flatMap((slot) => {
    const value = flat[`assets.${slot}`];
    return value !== undefined && value !== "none" ? [{ slot, assetId: value }] : [];
  });
}

/** One group's overrides in the chain from the root down to the group being resolved. */
export interface ChainLink {
  groupId: string;
  overrides: FlatTheme;
}

/**
 * Later links override earlier ones per field. Returns each field's winning value (the system
 * default, or `null` for an asset slot nobody set) and the id of the group it came from.
 */
export function resolveChain(chain: readonly ChainLink[]): {
  values: Record<ThemeField, string | null>;
  sources: Record<ThemeField, string | null>;
} {
  const values = {} as Record<ThemeField, string | null>;
  const sources = {} as Record<ThemeField, string | null>;
  for (const field of THEME_FIELDS) {
    values[field] = defaultValue(field);
    sources[field] = null;
    for (const link of chain) {
      const value = link.overrides[field];
      if (value === undefined) continue;
      values[field] = value;
      sources[field] = link.groupId;
    }
  }
  return { values, sources };
}

function defaultValue(field: ThemeField): string | null {
  const value = readAt(DEFAULT_THEME, field);
  return typeof value === "string" ? value : null;
}
