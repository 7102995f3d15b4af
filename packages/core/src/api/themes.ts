import { z } from "zod";

/**
 * Group themes. A group stores only its own *overrides* (`groups.theme`); what a client shows is
 * the resolved theme: the system default, then the root group's overrides, then each group down
 * to the requested one, later winning per field. See docs/themes.md.
 */

/** `#rgb` or `#rrggbb`, stored lowercased so equal colours compare equal. */
export const hexColourSchema = z
  .string()
  .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, "must be a hex colour like #1a2b3c or #abc")
  .transform((v) => v.toLowerCase());

/** Fonts the web app ships (self-hosted); anything else would fall back unpredictably. */
export const THEME_FONTS = ["system", "inter", "roboto", "open-sans", "lato", "source-sans-3", "merriweather", "atkinson-hyperlegible", "opendyslexic"] as const;
export const themeFontSchema = z.enum(THEME_FONTS);

export const THEME_COLOUR_SLOTS = ["primary", "secondary", "accent", "background", "surface", "text"] as const;
export type ThemeColourSlot = (typeof THEME_COLOUR_SLOTS)[number];

export const THEME_ASSET_SLOTS = ["logo", "favicon", "background"] as const;
export type ThemeAssetSlot = (typeof THEME_ASSET_SLOTS)[number];

export const themeDensitySchema = z.enum(["compact", "comfortable", "spacious"]);
export const themeCornerRadiusSchema = z.enum(["none", "small", "medium", "large"]);
export const themeSidebarPositionSchema = z.enum(["left", "right"]);

/**
 * An asset slot's own value: a theme asset id (of this group or an ancestor), or `"none"` to
 * hide an inherited asset. (`null` in a PATCH means "no override", so it cannot mean "none".)
 */
export const themeAssetRefSchema = z.union([z.uuid(), z.literal("none")]);

/** The same schema for each of `keys` (the colour and asset slots). */
function shapeOf<K extends string, S extends z.ZodType>(keys: readonly K[], schema: S): Record<K, S> {
  return Object.fromEntries(keys.map((k) => [k, schema])) as Record<K, S>;
}

/** A group's own overrides as stored in `groups.theme`: every field optional, nothing unknown. */
export const themeOverridesSchema = z.strictObject({
  colors: z.strictObject(shapeOf(THEME_COLOUR_SLOTS, hexColourSchema)).partial().optional(),
  font: themeFontSchema.optional(),
  layout: z
    .strictObject({
      density: themeDensitySchema,
      cornerRadius: themeCornerRadiusSchema,
      sidebarPosition: themeSidebarPositionSchema,
    })
    .partial()
    .optional(),
  assets: z.strictObject(shapeOf(THEME_ASSET_SLOTS, themeAssetRefSchema)).partial().optional(),
});
export type ThemeOverrides = z.infer<typeof themeOverridesSchema>;

const nullable = <T extends z.ZodType>(s: T) => s.nullable().optional();

/**
 * `PATCH /api/groups/:id/theme`: JSON merge-patch semantics (RFC 7396) over the group's own
 * overrides — a value sets the override, `null` removes it (the field is inherited again), an
 * absent field is left alone.
 */
export const themePatchSchema = z.strictObject({
  colors: nullable(z.strictObject(shapeOf(THEME_COLOUR_SLOTS, nullable(hexColourSchema)))),
  font: nullable(themeFontSchema),
  layout: nullable(
    z.strictObject({
      density: nullable(themeDensitySchema),
      cornerRadius: nullable(themeCornerRadiusSchema),
      sidebarPosition: nullable(themeSidebarPositionSchema),
    }),
  ),
  assets: nullable(z.strictObject(shapeOf(THEME_ASSET_SLOTS, nullable(themeAssetRefSchema)))),
});
export type ThemePatch = z.infer<typeof themePatchSchema>;

/** A stored theme asset as clients see it; `url` is stable and publicly readable. */
export const themeAssetSchema = z.object({
  id: z.uuid(),
  groupId: z.uuid(),
  contentType: z.string(),
  sizeBytes: z.number().int(),
  sha256: z.string(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  originalName: z.string().nullable(),
  uploadedBy: z.uuid().nullable(),
  createdAt: z.string(),
  url: z.string(),
});
export type ThemeAsset = z.infer<typeof themeAssetSchema>;

/** A fully resolved theme: every field has a value (assets may be `null`: none). */
export const resolvedThemeValuesSchema = z.object({
  colors: z.object(shapeOf(THEME_COLOUR_SLOTS, z.string())),
  font: themeFontSchema,
  layout: z.object({
    density: themeDensitySchema,
    cornerRadius: themeCornerRadiusSchema,
    sidebarPosition: themeSidebarPositionSchema,
  }),
  assets: z.object(shapeOf(THEME_ASSET_SLOTS, themeAssetSchema.nullable())),
});
export type ResolvedThemeValues = z.infer<typeof resolvedThemeValuesSchema>;

/** Field paths of a theme, e.g. `colors.primary`, `font`, `layout.density`, `assets.logo`. */
export const THEME_FIELDS = [
  ...THEME_COLOUR_SLOTS.map((s) => `colors.${s}` as const),
  "font",
  "layout.density",
  "layout.cornerRadius",
  "layout.sidebarPosition",
  ...THEME_ASSET_SLOTS.map((s) => `assets.${s}` as const),
] as const;
export type ThemeField = (typeof THEME_FIELDS)[number];

/**
 * `GET /api/groups/:id/theme`. `sources[field]` is the id of the group whose override won, or
 * `null` when the system default applies. `overrides` is the group's own stored overrides.
 */
export const resolvedThemeSchema = z.object({
  groupId: z.uuid(),
  theme: resolvedThemeValuesSchema,
  sources: z.record(z.string(), z.uuid().nullable()),
  overrides: themeOverridesSchema,
});
export type ResolvedTheme = z.infer<typeof resolvedThemeSchema>;

/** The system default every tree starts from. */
export const DEFAULT_THEME = {
  colors: {
    primary: "#2563eb",
    secondary: "#475569",
    accent: "#f59e0b",
    background: "#ffffff",
    surface: "#f8fafc",
    text: "#0f172a",
  },
  font: "system",
  layout: { density: "comfortable", cornerRadius: "medium", sidebarPosition: "left" },
} as const satisfies Omit<ResolvedThemeValues, "assets">;

/** A built-in preset: colours, font and layout (never assets, which belong to a group). */
export interface ThemeTemplate {
  id: string;
  name: string;
  description: string;
  theme: Required<Pick<ThemeOverrides, "colors" | "font" | "layout">>;
}

export const THEME_TEMPLATES: readonly ThemeTemplate[] = [
  {
    id: "classic",
    name: "Classic",
    description: "The system default: blue on white.",
    theme: { colors: { ...DEFAULT_THEME.colors }, font: DEFAULT_THEME.font, layout: { ...DEFAULT_THEME.layout } },
  },
  {
    id: "high-contrast",
    name: "High contrast",
    description: "Black on white with strong accents (WCAG AAA text contrast) and a legible typeface.",
    theme: {
      colors: {
        primary: "#0000cc",
        secondary: "#000000",
        accent: "#b30000",
        background: "#ffffff",
        surface: "#ffffff",
        text: "#000000",
      },
      font: "atkinson-hyperlegible",
      layout: { density: "spacious", cornerRadius: "none", sidebarPosition: "left" },
    },
  },
  {
    id: "calm",
    name: "Calm",
    description: "Soft greens and generous spacing.",
    theme: {
      colors: {
        primary: "#2f855a",
        secondary: "#4a5568",
        accent: "#d69e2e",
        background: "#f7faf7",
        surface: "#ffffff",
        text: "#1a202c",
      },
      font: "lato",
      layout: { density: "spacious", cornerRadius: "large", sidebarPosition: "left" },
    },
  },
  {
    id: "dark",
    name: "Dark",
    description: "Light text on a dark background.",
    theme: {
      colors: {
        primary: "#60a5fa",
        secondary: "#94a3b8",
        accent: "#fbbf24",
        background: "#0f172a",
        surface: "#1e293b",
        text: "#f1f5f9",
      },
      font: "inter",
      layout: { density: "comfortable", cornerRadius: "medium", sidebarPosition: "left" },
    },
  },
  {
    id: "compact",
    name: "Compact",
    description: "Dense layout for data-heavy screens.",
    theme: {
      colors: { ...DEFAULT_THEME.colors },
      font: "roboto",
      layout: { density: "compact", cornerRadius: "small", sidebarPosition: "left" },
    },
  },
];

export const themeTemplateSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  theme: themeOverridesSchema,
});

export const themeTemplatesResponseSchema = z.object({ items: z.array(themeTemplateSchema) });
export type ThemeTemplatesResponse = z.infer<typeof themeTemplatesResponseSchema>;

/** `POST /api/groups/:id/theme/apply-template`: the template replaces the group's colours, font and layout overrides; asset overrides stay. */
export const applyThemeTemplateSchema = z.strictObject({ templateId: z.string().min(1).max(64) });
export type ApplyThemeTemplateInput = z.infer<typeof applyThemeTemplateSchema>;

export const themeAssetIdParamSchema = z.object({ id: z.uuid(), assetId: z.uuid() });
export const themeAssetServeParamSchema = z.object({ assetId: z.uuid() });

const boolQuery = z
  .enum(["true", "false", "1", "0"])
  .optional()
  .transform((v) => v === "true" || v === "1");

/** `DELETE …/assets/:assetId?force=true` also removes the asset from every theme using it. */
export const deleteThemeAssetQuerySchema = z.object({ force: boolQuery });
/** `GET …/assets?inherited=true` also lists the ancestors' assets this group's theme may use. */
export const listThemeAssetsQuerySchema = z.object({ inherited: boolQuery });

export const themeAssetListResponseSchema = z.object({ items: z.array(themeAssetSchema) });
export type ThemeAssetListResponse = z.infer<typeof themeAssetListResponseSchema>;

/** Upload response: `created` is false when the same bytes were already stored for the group (HTTP 200 instead of 201). */
export const themeAssetUploadResponseSchema = z.object({ asset: themeAssetSchema, created: z.boolean() });
export type ThemeAssetUploadResponse = z.infer<typeof themeAssetUploadResponseSchema>;

/** The 409 `details` of deleting an asset a theme still uses. */
export interface ThemeAssetUsage {
  groupId: string;
  groupName: string;
  slots: ThemeAssetSlot[];
}
