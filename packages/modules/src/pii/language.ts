import { isAscii } from "../text.ts";
export type MessageLanguage = "en" | "es" | "vi";

// Letters only Vietnamese uses, and frequent words in unaccented Vietnamese and in Spanish.
const VI_LETTERS = /[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/iu;
const VI_LIST = "cua|ko|khong|nha|giup|minh|lam|voi|nhung|duoc|bai|cho|hoc|gi|sao|roi|vay|nao|là|và|có|chú|cô|bà|ông|tên|lớp|gì|ai|thì|mà";
const ES_LIST =
  "el|la|los|las|de|del|que|q|es|mi|mis|y|en|un|una|por|para|con|se|lo|como|pero|porfa|tengo|soy|estoy|ayudame|ayúdame|cuanto|cuál|cual|quien|quién|qué|tarea";
const EN_LIST =
  "the|and|is|my|i|you|to|of|it|in|what|how|can|me|for|with|this|that|im|i'm|help|u|pls|please|said|says|mom|dad|was|are|do|does|why|she|he|we|they|not|have|has|lol|idk|but|so|at|on|is|be|will|just|about";
const LISTS = [VI_LIST, ES_LIST, EN_LIST];

// The definition: each language's words as whole words, counted by a global match.
const WORD_PATTERNS = LISTS.map((list) => new RegExp(String.raw`(?<![\p{L}])(?:${list})(?![\p{L}])`, "giu"));

/*
 * The same count in one pass. A match of a word made only of letters, with no letter on either
 * side, is exactly a whole run of letters equal to the word (case-insensitively); the one word
 * with an apostrophe, "i'm", never matches, since "i" comes first in its list and is then followed
 * by a non-letter. So each run of letters counts once per list that holds it. Runs of ASCII
 * letters are looked up lower-cased: none of the lists' letters is equal to an ASCII letter under
 * Unicode case folding. Other runs ("ſo", "Qué") are tested against the list whole, with the
 * definition's flags, so case folding is the engine's.
 */
// Per word, the lists that hold it (bit 0 Vietnamese, 1 Spanish, 2 English).
const WORD_LISTS = new Map<string, number>();
LISTS.forEach((list, l) => {
  for (const word of list.split("|")) WORD_LISTS.set(word, (WORD_LISTS.get(word) ?? 0) | (1 << l));
});
// A longer run is none of the words (each pattern character matches one BMP character).
const LONGEST = Math.max(...[...WORD_LISTS.keys()].map((w) => w.length));
const WHOLE_WORD = LISTS.map((list) => new RegExp(`^(?:${list})$`, "iu"));
const LETTER_RUN = /\p{L}+/gu;

function countLists(lists: number, counts: number[]): void {
  for (let l = 0; l < 3; l++) if (lists & (1 << l)) counts[l] = (counts[l] ?? 0) + 1;
}

function countAsciiRun(run: string, counts: number[]): void {
  countLists(WORD_LISTS.get(run.toLowerCase()) ?? 0, counts);
}

// The words of ASCII letters by number: a run of up to seven letters, lower-cased, read in base 27
// (a = 1 … z = 26), so a run in ASCII text is looked up without making a string of it.
const asciiKey = (word: string): number => {
  let key = 0;
  for (let i = 0; i < word.length; i++) key = key * 27 + ((word.charCodeAt(i) | 0x20) - 0x60);
  return key;
};
const ASCII_WORD_LISTS = new Map<number, number>();
for (const [word, lists] of WORD_LISTS) if (/^[a-z]+$/.test(word)) ASCII_WORD_LISTS.set(asciiKey(word), lists);

function countRun(run: string, counts: number[]): void {
  if (isAscii(run)) countAsciiRun(run, counts);
  else for (let l = 0; l < 3; l++) if (WHOLE_WORD[l]?.test(run)) counts[l] = (counts[l] ?? 0) + 1;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/** How many of each language's words the text holds: [vi, es, en]. */
export function languageWordCounts(text: string): number[] {
  const counts = [0, 0, 0];
  if (isAscii(text)) {
    // In ASCII text the letters (`\p{L}`) are A–Z and a–z.
    let start = -1;
    let key = 0;
    for (let i = 0; i <= text.length; i++) {
      const c = i < text.length ? text.charCodeAt(i) : 0;
      if (isAsciiLetter(c)) {
        if (start < 0) {
          start = i;
          key = 0;
        }
        if (i - start < LONGEST) key = key * 27 + ((c | 0x20) - 0x60);
      } else if (start >= 0) {
        if (i - start <= LONGEST) countLists(ASCII_WORD_LISTS.get(key) ?? 0, counts);
        start = -1;
      }
    }
    return counts;
  }
  for (const m of text.matchAll(LETTER_RUN)) if (m[0].length <= LONGEST) countRun(m[0], counts);
  return counts;
}

function decide(vi: number, es: number, en: number): MessageLanguage {
  if (vi > es && vi > en) return "vi";
  return es > en ? "es" : "en";
}

/** A cheap guess at the message's language (English, Spanish or Vietnamese), for word lists. */
export function guessLanguage(message: string): MessageLanguage {
  // The opening of a message tells its language as well as the whole of a long one does.
  const text = message.length > 600 ? message.slice(0, 600) : message;
  if (VI_LETTERS.test(text)) return "vi";
  const [vi = 0, es = 0, en = 0] = languageWordCounts(text);
  return decide(vi, es, en);
}

/** {@link languageWordCounts} by its definition, three global matches: kept for tests. */
export function languageWordCountsByPatterns(text: string): number[] {
  return WORD_PATTERNS.map((re) => text.match(re)?.length ?? 0);
}
