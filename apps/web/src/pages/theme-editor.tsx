/** @jsxImportSource preact */
import { type ResolvedThemeValues, THEME_COLOUR_SLOTS, THEME_FONTS, type ThemePatch } from "@raptscallions/core";
import { useEffect, useState } from "preact/hooks";
import { errorText, useSigned } from "../context.ts";
import { contrast, parseHex, themeVariables } from "../theme.ts";

const DENSITIES = ["compact", "comfortable", "spacious"] as const;
const RADII = ["none", "small", "medium", "large"] as const;

/** Edits a group's own theme with a live preview; text colours the preview adjusts are named. */
export function ThemeEditor(props: { groupId: string; groupName: string }) {
  const { client } = useSigned();
  const [saved, setSaved] = useState<ResolvedThemeValues | null>(null);
  const [draft, setDraft] = useState<ResolvedThemeValues | null>(null);
  const [status, setStatus] = useState<string>("");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    client.rest("getGroupTheme", { params: { id: props.groupId } }).then(
      (t) => {
        setSaved(t.theme);
        setDraft(t.theme);
      },
      (err: unknown) => setError(errorText(err)),
    );
  }, [props.groupId]);

  if (error && !draft) return <p role="alert">{error}</p>;
  if (!draft || !saved) return <p role="status">Loading the theme…</p>;

  const setColour = (slot: (typeof THEME_COLOUR_SLOTS)[number], value: string) => setDraft({ ...draft, colors: { ...draft.colors, [slot]: value } });
  const valid = THEME_COLOUR_SLOTS.every((s) => parseHex(draft.colors[s]));
  const weak = [
    ["text on background", contrast(draft.colors.text, draft.colors.background)],
    ["text on surface", contrast(draft.colors.text, draft.colors.surface)],
    ["primary on background (links)", contrast(draft.colors.primary, draft.colors.background)],
  ].filter(([, ratio]) => (ratio as number) < 4.5) as [string, number][];

  async function save(e: Event) {
    e.preventDefault();
    if (!draft || !saved) return;
    const patch: ThemePatch = {};
    const colors = Object.fromEntries(THEME_COLOUR_SLOTS.filter((s) => draft.colors[s] !== saved.colors[s]).map((s) => [s, draft.colors[s]]));
    if (Object.keys(colors).length > 0) patch.colors = colors;
    if (draft.font !== saved.font) patch.font = draft.font;
    if (draft.layout.density !== saved.layout.density || draft.layout.cornerRadius !== saved.layout.cornerRadius) {
      patch.layout = { density: draft.layout.density, cornerRadius: draft.layout.cornerRadius };
    }
    setError(null);
    setStatus("Saving…");
    try {
      const t = await client.rest("patchGroupTheme", { params: { id: props.groupId }, body: patch });
      setSaved(t.theme);
      setDraft(t.theme);
      setStatus("Saved.");
    } catch (err) {
      setStatus("");
      setError(errorText(err));
    }
  }

  return (
    <section aria-labelledby="theme-heading" class="theme-editor">
      <h3 id="theme-heading">Theme of {props.groupName}</h3>
      <div class="columns">
        <form onSubmit={(e) => void save(e)}>
          <fieldset>
            <legend>Colours</legend>
            {THEME_COLOUR_SLOTS.map((slot) => (
              <div class="field" key={slot}>
                <label for={`colour-${slot}`}>{slot}</label>
                <input
                  id={`colour-${slot}`}
                  type="color"
                  value={parseHex(draft.colors[slot]) ? expand(draft.colors[slot]) : "#000000"}
                  onInput={(e) => setColour(slot, e.currentTarget.value)}
                />
                <input aria-label={`${slot} (hex)`} type="text" value={draft.colors[slot]} size={8} onInput={(e) => setColour(slot, e.currentTarget.value)} />
              </div>
            ))}
          </fieldset>
          <div class="field">
            <label for="theme-font">Font</label>
            <select id="theme-font" value={draft.font} onChange={(e) => setDraft({ ...draft, font: e.currentTarget.value as ResolvedThemeValues["font"] })}>
              {THEME_FONTS.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="theme-density">Density</label>
            <select
              id="theme-density"
              value={draft.layout.density}
              onChange={(e) => setDraft({ ...draft, layout: { ...draft.layout, density: e.currentTarget.value as (typeof DENSITIES)[number] } })}
            >
              {DENSITIES.map((d) => (
                <option key={d}>{d}</option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="theme-radius">Corners</label>
            <select
              id="theme-radius"
              value={draft.layout.cornerRadius}
              onChange={(e) => setDraft({ ...draft, layout: { ...draft.layout, cornerRadius: e.currentTarget.value as (typeof RADII)[number] } })}
            >
              {RADII.map((d) => (
                <option key={d}>{d}</option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={!valid}>
            Save theme
          </button>{" "}
          <button type="button" onClick={() => setDraft(saved)}>
            Revert
          </button>
          <p role="status">{status}</p>
          {error ? <p role="alert">{error}</p> : null}
        </form>
        <ThemePreview theme={valid ? draft : saved} weak={weak} />
      </div>
    </section>
  );
}

function expand(hex: string): string {
  return hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join("")}` : hex;
}

function ThemePreview(props: { theme: ResolvedThemeValues; weak: [string, number][] }) {
  const vars = themeVariables(props.theme);
  return (
    <div class="preview-wrap">
      <p id="preview-label">Live preview</p>
      <div class="preview" style={vars} aria-labelledby="preview-label" data-testid="theme-preview">
        <div class="preview-top">
          {props.theme.assets.logo ? <img src={props.theme.assets.logo.url} alt="Logo" height={24} /> : null}
          <strong>Biology 9A</strong>
        </div>
        <div class="preview-card">
          <p>Why are leaves green? Chlorophyll absorbs red and blue light.</p>
          <p>
            <a href="#preview-label">A link</a>
          </p>
          <button type="button" tabIndex={-1}>
            Send
          </button>
        </div>
      </div>
      {props.weak.length > 0 ? (
        <p class="muted">
          Low contrast ({props.weak.map(([what, r]) => `${what} ${r.toFixed(1)}:1`).join(", ")}): the console shows black or white text instead where the ratio is under
          4.5:1.
        </p>
      ) : null}
    </div>
  );
}
