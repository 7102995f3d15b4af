import type { ResolvedThemeValues } from "@raptscallions/core";

/** `#rgb` / `#rrggbb` → [r, g, b] in 0–255, or null. */
export function parseHex(hex: string): [number, number, number] | null {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex);
  if (!m?.[1]) return null;
  const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join("") : m[1];
  return [0, 2, 4].map((i) => Number.parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
}

/** WCAG 2.x relative luminance. */
export function luminance(hex: string): number {
  const rgb = parseHex(hex);
  if (!rgb) return 0;
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio between two colours (1–21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** `preferred` if it reaches `min` against `bg`, else black or white, whichever contrasts more. */
export function readableOn(bg: string, preferred: string, min = 4.5): string {
  if (contrast(preferred, bg) >= min) return preferred;
  return contrast("#000000", bg) >= contrast("#ffffff", bg) ? "#000000" : "#ffffff";
}

const FONT_STACKS: Record<string, string> = {
  system: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  inter: "Inter, system-ui, sans-serif",
  roboto: "Roboto, system-ui, sans-serif",
  "open-sans": "'Open Sans', system-ui, sans-serif",
  lato: "Lato, system-ui, sans-serif",
  "source-sans-3": "'Source Sans 3', 'Source Sans Pro', system-ui, sans-serif",
  merriweather: "Merriweather, Georgia, serif",
  "atkinson-hyperlegible": "'Atkinson Hyperlegible', system-ui, sans-serif",
  opendyslexic: "OpenDyslexic, 'Comic Sans MS', system-ui, sans-serif",
};
const RADII: Record<string, string> = { none: "0", small: "4px", medium: "8px", large: "16px" };
const SPACING: Record<string, string> = { compact: "0.5rem", comfortable: "0.85rem", spacious: "1.25rem" };

/**
 * CSS custom properties for a theme. Whatever colours a theme holds (any hex the schema allows),
 * text stays readable: body text against background and surface, button text against primary,
 * links against background — each kept if it reaches WCAG AA (4.5:1), else replaced by black or
 * white, whichever contrasts more.
 */
export function themeVariables(theme: ResolvedThemeValues): Record<string, string> {
  const { colors } = theme;
  const bg = parseHex(colors.background) ? colors.background : "#ffffff";
  const surface = parseHex(colors.surface) ? colors.surface : bg;
  const text = readableOn(bg, colors.text);
  return {
    "--bg": bg,
    "--surface": surface,
    "--text": text,
    "--text-on-surface": readableOn(surface, colors.text),
    "--primary": colors.primary,
    "--on-primary": readableOn(colors.primary, "#ffffff"),
    "--link": readableOn(bg, colors.primary),
    "--link-on-surface": readableOn(surface, colors.primary),
    // Focus rings and borders need 3:1 against what they sit on (WCAG 1.4.11).
    "--accent": readableOn(bg, colors.accent, 3),
    "--border": readableOn(surface, colors.secondary, 3),
    "--font": FONT_STACKS[theme.font] ?? FONT_STACKS.system ?? "system-ui",
    "--radius": RADII[theme.layout.cornerRadius] ?? "8px",
    "--space": SPACING[theme.layout.density] ?? "0.85rem",
  };
}

export function applyTheme(el: HTMLElement, theme: ResolvedThemeValues) {
  for (const [k, v] of Object.entries(themeVariables(theme))) el.style.setProperty(k, v);
  el.dataset.sidebar = theme.layout.sidebarPosition;
}
