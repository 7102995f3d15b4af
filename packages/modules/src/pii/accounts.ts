import { isKnownWord, type MessageLanguage } from "./lexicon.ts";
import { hasNumber } from "./text-shape.ts";
import type { PiiSpan } from "./types.ts";

// Labels schools put in front of a student's number, in English, Spanish and Vietnamese.
// "number" alone is not one: "my number is …" is a phone.
const ID_LABEL = String.raw`(?:(?:student|school|pupil|lunch|library|locker|bus|cafeteria|canteen|exam|candidate|district)\s*(?:id|i\.d\.|number|num|no\.?|#|code|pin|card|pass)|bus pass|library card|student|(?:my|mi|your|his|her|their|our)\s+(?:id|i\.d\.)|\bid\s*(?:#|:|number|num|no\.?|is)|login|log-in|matr[ií]cula|n[uú]mero de (?:control|estudiante|alumno|cuenta|matr[ií]cula|expediente|lista|boleta)|n[°º]\s*de (?:control|estudiante|alumno)|expediente|\bnia\b|\bcurp\b|boleta|legajo|m[ãa] (?:s[ốo] )?(?:hs|h[ọo]c sinh|sv|sinh vi[êe]n)|s[ốo] b[áa]o danh|\bsbd\b|\bmssv\b|\bmshs\b)`;
// Between the label and the number: "is", ":", "es", "là", "on my bus pass is"…
const ID_GAP = String.raw`[^\p{N}\n.!?]{0,24}?`;
// The number: digits in up to four groups, or a code with letters and at least three digits
// ("S-2019-0442", "HS2023-0451", "BP 772 019", "#4471902").
const ID_VALUE = String.raw`#?(?:[A-Za-z]{1,4}[ -]?)?\p{N}[\p{N}A-Za-z]*(?:[ -][\p{N}A-Za-z]*\p{N}[\p{N}A-Za-z]*){0,3}`;
const LABELLED_ID = new RegExp(String.raw`(?<![\p{L}\p{N}])${ID_LABEL}${ID_GAP}(${ID_VALUE})(?![\p{L}\p{N}])`, "giu");
// Unlabelled codes shaped like school ids: letters, a dash, then digit groups ("S-2019-0442").
const CODE_ID = /(?<![\p{L}\p{N}-])[A-Z]{1,3}-?\d{2,4}-[\dA-Z]{3,6}(?![\p{L}\p{N}-])/gu;

function digitCount(value: string): number {
  return value.replace(/\D/g, "").length;
}

/**
 * Student, lunch, library and exam numbers written after a label ("student id 20481733", "ID#
 * 104-55-21", "lunch number 448812", "mi matrícula es 20230145", "mã hs HS2023-0451"), codes
 * shaped like school ids, and a second number of the same length right after a labelled one
 * ("my lunch # 551903 and my brother's is 551904").
 */
export function findStudentIds(text: string): PiiSpan[] {
  const spans: PiiSpan[] = [];
  // A labelled value has a number (`\p{N}`), a code an ASCII digit, which is one.
  if (!hasNumber(text)) return spans;
  for (const m of text.matchAll(LABELLED_ID)) {
    const raw = m[1] ?? "";
    // Lower-case letters before the digits are the sentence ("is 2023…"), not an id prefix.
    const value = raw.replace(/^#?[a-z]+ /, "");
    // A value ending in a group that is only letters belongs to the sentence, not the id.
    const trimmed = value.replace(/(?:[ -][A-Za-z]+)+$/, "");
    if (digitCount(trimmed) < 3) continue;
    const start = m.index + m[0].length - raw.length + (raw.length - value.length);
    spans.push({ kind: "student_id", start, end: start + trimmed.length });
    const after = text.slice(start + trimmed.length, start + trimmed.length + 60);
    const next = /^[^.!?\n]*?(?<![\p{L}\p{N}])(\d[\d -]*\d)(?![\p{L}\p{N}])/u.exec(after);
    const sibling = next?.[1];
    if (next && sibling && digitCount(sibling) === digitCount(trimmed)) {
      const s = start + trimmed.length + next[0].length - sibling.length;
      spans.push({ kind: "student_id", start: s, end: s + sibling.length });
    }
  }
  for (const m of text.matchAll(CODE_ID)) {
    if (digitCount(m[0]) >= 5) spans.push({ kind: "student_id", start: m.index, end: m.index + m[0].length });
  }
  return spans;
}

const PLATFORM = String.raw`(?:snap(?:chat)?|sc|insta(?:gram)?|ig|tik\s?tok|tt|twitter|discord|roblox|fb|facebook|zalo|youtube|yt|twitch|minecraft|xbox|gamertag|psn|steam|fortnite|epic|threads|bsky|reddit|pinterest|telegram|kik|handle|username|user\s?name|ign)`;
// Words that may sit between the platform and the handle: "my snap is", "snap me", "el mío es",
// "của t là", "add me on discord".
const HANDLE_FILLER = new Set([
  "is",
  "it's",
  "its",
  "me",
  "at",
  "on",
  "name",
  "user",
  "username",
  "handle",
  "account",
  "id",
  "=",
  "es",
  "el",
  "mio",
  "mío",
  "mi",
  "tu",
  "la",
  "de",
  "cuenta",
  "usuario",
  "como",
  "là",
  "của",
  "cua",
  "t",
  "tôi",
  "toi",
  "mình",
  "minh",
  "em",
  "tao",
  "tớ",
  "nha",
  "nhé",
  "ne",
  "nè",
]);
const HANDLE_TOKEN = /^@?[\p{L}\p{N}._#-]{2,32}$/u;
const URL_HANDLE = /(?<![\w.])(?:https?:\/\/)?(?:www\.)?(?:fb|facebook|instagram|tiktok|twitter|x|youtube|twitch|snapchat)\.com\/@?[\w.-]{2,40}/giu;
const AT_HANDLE = /(?<![\p{L}\p{N}._@-])@[\p{L}\p{N}_](?:[\p{L}\p{N}._]{0,29}[\p{L}\p{N}_])?(?![\p{L}\p{N}@(])/gu;
const DISCORD_TAG = /(?<![\p{L}\p{N}._#-])[\p{L}\p{N}._]{2,32}#\d{4}(?![\p{L}\p{N}])/gu;
const PLATFORM_WORD = new RegExp(String.raw`(?<![\p{L}\p{N}@.])${PLATFORM}(?![\p{L}\p{N}])`, "giu");
const HANDLE_BEFORE_PLATFORM = new RegExp(
  String.raw`(?<![\p{L}\p{N}._@#-])([\p{L}\p{N}._]{3,30}[\p{L}\p{N}_])(?=\s+(?:on|en|trên)\s+${PLATFORM}(?![\p{L}\p{N}]))`,
  "giu",
);
const COM_PATH = /\.com\//iu;
const SOCIAL_CUE = new RegExp(String.raw`(?<![\p{L}])(?:${PLATFORM}|follow|add me|dm|message me|account|acc|profile)(?![\p{L}])`, "iu");

function looksLikeHandle(token: string, lang: MessageLanguage): boolean {
  if (!HANDLE_TOKEN.test(token)) return false;
  if (/[._#\d]|^@/.test(token)) return true;
  // A bare word after the platform name is a handle unless it is an ordinary word ("my insta is
  // private", "snap me when"). Only English has a lexicon to tell, so elsewhere a bare word is
  // taken as a handle only when it looks like one.
  return lang === "en" && !isKnownWord(token);
}

/**
 * Social and gaming usernames: "@handle", discord tags ("sk8rboi#4421"), profile URLs, and the
 * word after a platform name ("snap: kira_xo22", "my tiktok jhenryyy", "roblox user is naomi_plays").
 * A bare "@word" with no dot, underscore or digit counts only when the message mentions a social
 * platform, so code ("@param", "@media") is left alone.
 */
export function findHandles(text: string, lang: MessageLanguage): PiiSpan[] {
  const spans: PiiSpan[] = [];
  // Each form is looked for only when the text has the character or word it cannot do without:
  // "@", the tag's "#", the profile URL's ".com/", a platform's name.
  let social: boolean | undefined;
  for (const m of text.includes("@") ? text.matchAll(AT_HANDLE) : []) {
    // Chat-wide mentions, not anyone's account.
    if (/^@(?:everyone|here|channel|all|room)$/i.test(m[0])) continue;
    social ??= SOCIAL_CUE.test(text);
    if (social || /[._\d]/.test(m[0])) spans.push({ kind: "handle", start: m.index, end: m.index + m[0].length });
  }
  if (text.includes("#")) for (const m of text.matchAll(DISCORD_TAG)) spans.push({ kind: "handle", start: m.index, end: m.index + m[0].length });
  if (COM_PATH.test(text)) for (const m of text.matchAll(URL_HANDLE)) spans.push({ kind: "handle", start: m.index, end: m.index + m[0].length });
  // Every platform word before a handle is also a PLATFORM_WORD match (space before it, the same
  // end): without one there is neither form.
  const platforms = [...text.matchAll(PLATFORM_WORD)];
  if (platforms.length === 0) return spans;
  // "add me kira.xo on snap": a handle-shaped word before "on <platform>".
  for (const m of text.matchAll(HANDLE_BEFORE_PLATFORM)) {
    const word = m[1] ?? "";
    if (/[._\d]/.test(word) && /\p{L}/u.test(word) && !/^\d+[.,]\d+$/.test(word)) spans.push({ kind: "handle", start: m.index, end: m.index + word.length });
  }
  for (const m of platforms) {
    const tokens = text.slice(m.index + m[0].length, m.index + m[0].length + 80).matchAll(/[^\s,:;!?()"]+/g);
    let skipped = 0;
    for (const t of tokens) {
      const word = t[0].replace(/\.+$/, "");
      if (HANDLE_FILLER.has(word.toLowerCase()) && skipped < 4) {
        skipped++;
        continue;
      }
      if (looksLikeHandle(word, lang)) {
        const start = m.index + m[0].length + t.index;
        spans.push({ kind: "handle", start, end: start + word.length });
      }
      break;
    }
  }
  return spans;
}
