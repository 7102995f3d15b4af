import { isAscii } from "../text.ts";
const LEET: Record<string, string> = { "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", $: "s", "!": "i" };

// Only inside words that already contain a letter, so "2 + 3" and "11:00" stay numbers.
function deleet(text: string): string {
  // Only a word holding one of these is changed: without any, the text comes back as it is.
  if (!/[\d@$!]/.test(text)) return text;
  return text.replace(/[\p{L}\d@$!]+/gu, (word) => {
    if (!/\p{L}/u.test(word) || !/[\d@$!]/.test(word)) return word;
    // A trailing "!" is punctuation, not an "i".
    const core = word.replace(/!+$/, "");
    const tail = word.slice(core.length);
    return core.replace(/[013457@$!]/g, (c) => LEET[c] ?? c) + tail;
  });
}

// "s u i c i d e", "k.y.s": three or more single letters separated by one space, dot or dash.
// A trailing "a" or "i" is usually the next real word ("s u i c i d e a lot"), so it stays apart.
function joinSpelledOut(text: string): string {
  // Letter boundaries, not \b: \b is ASCII-only, so "tụi t hẹn" would look like "i t h".
  return text.replace(/(?<![\p{L}\p{N}])\p{L}(?:[ .\-_*]\p{L}(?![\p{L}\p{N}])){2,}/gu, (run) => {
    const tail = /[ .\-_*]([ai])$/.exec(run);
    if (tail && run.length >= 9) return `${run.slice(0, tail.index).replace(/[ .\-_*]/g, "")} ${tail[1]}`;
    return run.replace(/[ .\-_*]/g, "");
  });
}

function squeeze(text: string, keep: 1 | 2): string {
  return text.replace(/(\p{L})\1{2,}/gu, keep === 1 ? "$1" : "$1$1");
}

// "muốn chết" → "muon chet", "suicidarme" stays, "đ" → "d": Spanish and Vietnamese rules are
// written without diacritics so one pattern covers students who type with and without them.
function foldDiacritics(text: string): string {
  // Plain ASCII has no marks to take off, no "đ", and is its own NFD.
  if (isAscii(text)) return text;
  return text
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .replace(/đ/g, "d");
}

/**
 * The forms of a message the safety patterns are tried against: plain lower case, then with
 * leetspeak undone and spelled-out letters joined, then with stretched letters squeezed to one
 * ("kiiiill" → "kill") and to two ("killlll" → "kill"), and with diacritics folded away. Cheap, and covers the common ways
 * students dodge a filter without trying to out-think a determined one.
 */
export function safetyVariants(text: string): string[] {
  const base = lowerPlain(text);
  const cleaned = joinSpelledOut(deleet(base));
  return [...new Set([base, cleaned, squeeze(cleaned, 1), squeeze(cleaned, 2), foldDiacritics(cleaned)])];
}

/** Every form the fast path reads, the steps they share worked out once: the rules' variants and the classifier's form. */
export function safetyForms(text: string): { variants: string[]; classifier: string } {
  const base = lowerPlain(text);
  const cleaned = joinSpelledOut(deleet(base));
  const squeezedToTwo = squeeze(cleaned, 2);
  return {
    variants: [...new Set([base, cleaned, squeeze(cleaned, 1), squeezedToTwo, foldDiacritics(cleaned)])],
    // = classifierForm(text)
    classifier: foldDiacritics(squeezedToTwo),
  };
}

function lowerPlain(text: string): string {
  // Plain ASCII (most messages) is its own NFKC and holds no zero-width characters or curly quotes.
  if (isAscii(text)) return (text.includes("`") ? text.replaceAll("`", "'") : text).toLowerCase();
  return text
    .normalize("NFKC")
    .replace(/[\u200B-\u200D\u2060\uFEFF]/g, "")
    .replace(/[’‘`]/g, "'")
    .toLowerCase();
}

/**
 * The one form the classifier reads: lower case, leetspeak undone, spelled-out letters joined,
 * stretched letters squeezed to two, diacritics folded. One form (not every variant) so a word
 * counts once; folded so "muốn chết" and "muon chet" are the same features.
 */
export function classifierForm(text: string): string {
  return foldDiacritics(squeeze(joinSpelledOut(deleet(lowerPlain(text))), 2));
}
