import { describe, expect, test } from "bun:test";
import { DEFAULT_THEME, type ResolvedThemeValues, THEME_TEMPLATES } from "@raptscallions/core";
import { contrast, readableOn, themeVariables } from "../src/theme.ts";

const theme = (colors: ResolvedThemeValues["colors"]): ResolvedThemeValues => ({
  ...DEFAULT_THEME,
  colors,
  assets: { logo: null, favicon: null, background: null },
});

// A seeded generator, so a failure names a colour that fails again.
function colours(seed: number) {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s / 2 ** 31);
  const hex = () =>
    `#${Math.floor(next() * 0xffffff)
      .toString(16)
      .padStart(6, "0")}`;
  return { primary: hex(), secondary: hex(), accent: hex(), background: hex(), surface: hex(), text: hex() };
}

describe("theme contrast", () => {
  test("WCAG ratios: black on white is 21, equal colours 1, #rgb expands", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#777777", "#777777")).toBeCloseTo(1, 5);
    expect(contrast("#fff", "#ffffff")).toBeCloseTo(1, 5);
    expect(contrast("#767676", "#ffffff")).toBeGreaterThanOrEqual(4.5);
  });

  test("a colour that reads is kept; one that does not becomes black or white", () => {
    expect(readableOn("#ffffff", "#0f172a")).toBe("#0f172a");
    expect(readableOn("#777777", "#999999")).toBe("#000000");
    expect(readableOn("#222222", "#333333")).toBe("#ffffff");
  });

  test("under any colours the schema allows, every text pair reaches 4.5:1 and borders 3:1", () => {
    const samples = [...THEME_TEMPLATES.map((t) => theme({ ...DEFAULT_THEME.colors, ...t.theme.colors })), theme(DEFAULT_THEME.colors)];
    for (let seed = 1; seed <= 500; seed++) samples.push(theme(colours(seed)));
    samples.push(theme({ primary: "#ffff00", secondary: "#eee", accent: "#ffe", background: "#777", surface: "#888", text: "#999" }));
    for (const t of samples) {
      const v = themeVariables(t);
      const pairs: [string, string, string, number][] = [
        ["text/bg", v["--text"] ?? "", v["--bg"] ?? "", 4.5],
        ["text/surface", v["--text-on-surface"] ?? "", v["--surface"] ?? "", 4.5],
        ["button", v["--on-primary"] ?? "", v["--primary"] ?? "", 4.5],
        ["link/bg", v["--link"] ?? "", v["--bg"] ?? "", 4.5],
        ["link/surface", v["--link-on-surface"] ?? "", v["--surface"] ?? "", 4.5],
        ["focus/bg", v["--accent"] ?? "", v["--bg"] ?? "", 3],
        ["border/surface", v["--border"] ?? "", v["--surface"] ?? "", 3],
      ];
      for (const [what, fg, bg, min] of pairs) {
        const ratio = contrast(fg, bg);
        if (ratio < min) throw new Error(`${what}: ${fg} on ${bg} is ${ratio.toFixed(2)}:1 for ${JSON.stringify(t.colors)}`);
      }
    }
    expect(samples.length).toBeGreaterThan(500);
  });
});
