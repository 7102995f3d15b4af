import { ENGLISH_WORD_NAMES, isFirstName, isKnownWord, isLastName, isNounOnly, type MessageLanguage } from "./lexicon.ts";
import type { PiiSpan } from "./types.ts";

/**
 * Other people's names: classmates, friends, family, teachers. Students rarely capitalise, so
 * capitalisation cannot carry this; two signals do instead:
 *
 * 1. A relation or title right before the name, in English, Spanish or Vietnamese ("my mom
 *    maria", "my friends harper, zoe and mia", "ms. kaur", "mi hermano diego", "la profe beatriz",
 *    "bạn minh", "mẹ tôi tên lan", "thầy khôi"). The word after it is the name unless it is a
 *    function word, a verb or (in English) an ordinary word in compromise's lexicon.
 * 2. In English, a word that compromise's lexicon knows mainly as a given name ("tyler",
 *    "brianna"), unless the message is about a public or fictional person ("who was…", "in the
 *    book…") or the name comes with a surname ("george washington", "harry potter"), which in
 *    student questions is nearly always someone famous. A classmate's full name after a relation
 *    word is still caught by (1).
 */

// Letters glued to digits stay one token ("90bea870", "ann345"): a code, never a name.
const TOKEN = /[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N}'’-]*|[^\s\p{L}\p{N}]/gu;
const WORD = /^\p{L}[\p{L}\p{M}'’-]*$/u;

interface Token {
  text: string;
  lower: string;
  start: number;
  end: number;
  possessive: boolean;
}

function tokenize(text: string): Token[] {
  return [...text.matchAll(TOKEN)].map((m) => {
    // "tyler's mom": the possessive is not part of the name.
    const word = /['’][sS]$/.test(m[0]) ? m[0].slice(0, -2) : m[0];
    return { text: word, lower: word.toLowerCase(), start: m.index, end: m.index + word.length, possessive: word !== m[0] };
  });
}

// After an unknown word, these make it a person: "sanjana and i", "kwame said", "jaylen told me".
const EN_NAME_AFTER = /^\s+(?:and\s+(?:i|me)|said|says|told\s+(?:me|us)|texted\s+me|asked\s+me|dmed\s+me|keeps|wants\s+me)(?![\p{L}])/iu;

const EN_RELATIONS =
  "friend|friends|bestie|besties|bff|bf|gf|boyfriend|girlfriend|mom|moms|mum|mommy|mother|dad|daddy|father|stepmom|stepmum|stepdad|sister|sis|sisters|brother|bro|brothers|cousin|cousins|aunt|auntie|aunty|uncle|grandma|grandpa|granny|grandmother|grandfather|nana|abuela|abuelo|tia|tio|tía|tío|primo|prima|niece|nephew|neighbor|neighbour|teacher|coach|counselor|counsellor|tutor|classmate|classmates|partner|crush|buddy|pal|principal|babysitter|stepbrother|stepsister|roommate|twin|sibling|siblings|godmother|godfather";
const EN_CUE = new RegExp(
  String.raw`(?<![\p{L}])(?:(?:my|our|his|her|their|your|ur)\s+(?:(?:best|little|lil|big|older|younger|baby|twin|step|new|old|other|favorite|favourite|lab|science|math|english|history|art|music|soccer|basketball)\s+){0,2}(?:${EN_RELATIONS})(?:'s\s+name\s+is|\s+named|\s+called|\s+is\s+named)?|(?:mr|mrs|ms|mx|dr|coach|professor|prof|aunt|uncle|auntie|grandma|grandpa)\.?|me\s+(?:and|&|n))(?![\p{L}])\s*,?\s*`,
  "giu",
);
const ES_CUE = new RegExp(
  String.raw`(?<![\p{L}])(?:(?:mi|mis|tu|tus|su|sus)\s+(?:mejor(?:es)?\s+)?(?:amig[oa]s?|mam[aá]|mami|madre|pap[aá]|papi|padre|herman[oa]s?|hermanit[oa]s?|prim[oa]s?|t[ií][oa]s?|abuel[oa]s?|abuelit[oa]s?|novi[oa]|compa|compas|compañer[oa]s?|vecin[oa]s?|maestr[oa]|profe|profesor|profesora|padrastro|madrastra|sobrin[oa]s?|cuñad[oa]|padrino|madrina|entrenador|entrenadora)(?:\s+(?:el|la))?|(?:el|la)\s+(?:profe|profesor|profesora|maestr[oa]|miss|entrenador|entrenadora|directora?)|(?:se\s+llama|don|doña|sr|sra|srta)\.?)(?![\p{L}])\s*,?\s*`,
  "giu",
);
const VI_CUE = new RegExp(
  String.raw`(?<![\p{L}])(?:bạn(?:\s+(?:thân|trai|gái|học|cùng\s+lớp|cùng\s+bàn))?|mẹ|má|bố|ba|cha|chị(?:\s+(?:gái|họ|hai|ba|cả))?|anh(?:\s+(?:trai|họ|hai|ba|cả))?|em\s+(?:gái|trai|họ)|cô|thầy|bà(?:\s+(?:ngoại|nội))?|ông(?:\s+(?:ngoại|nội))?|bác|chú|dì|cậu|mợ|thím|dượng)(?:\s+(?:của\s+)?(?:t|tôi|mình|em|tao|tớ))?(?:\s+(?:là|tên\s+là|tên))?(?![\p{L}\p{M}])\s*`,
  "giu",
);

const EN_STOP = new Set([
  "i",
  "me",
  "my",
  "you",
  "u",
  "he",
  "she",
  "it",
  "we",
  "they",
  "him",
  "her",
  "them",
  "his",
  "our",
  "their",
  "your",
  "ur",
  "a",
  "an",
  "the",
  "and",
  "or",
  "but",
  "so",
  "is",
  "are",
  "was",
  "were",
  "be",
  "been",
  "has",
  "have",
  "had",
  "do",
  "does",
  "did",
  "to",
  "of",
  "in",
  "on",
  "at",
  "for",
  "with",
  "from",
  "by",
  "about",
  "as",
  "that",
  "this",
  "who",
  "what",
  "when",
  "where",
  "why",
  "how",
  "said",
  "says",
  "lol",
  "lmao",
  "idk",
  "pls",
  "plz",
  "rn",
  "tho",
  "too",
  "also",
  "just",
  "really",
  "tbh",
  "ngl",
  "fr",
  "jk",
  "omg",
  "bc",
  "cuz",
  "n",
  "w",
  "wants",
  "keeps",
  "got",
  "gets",
  "group",
  "chat",
  "phone",
  "number",
  "email",
  "birthday",
  "bday",
  "house",
  "car",
  "name",
  "names",
  "said",
  "told",
  "s",
  "t",
  "re",
  "ll",
  "d",
  "ve",
  "m",
  "all",
  "both",
  "not",
  "never",
  "always",
  "still",
  "again",
  "today",
  "tonight",
  "jeans",
  "joke",
  "jokes",
  "assistant",
  "aide",
  "side",
  "circle",
  "squad",
  "team",
  "class",
  "homework",
  "hw",
  // Contractions typed without the apostrophe are unknown to the lexicon but never a surname.
  "didnt",
  "dont",
  "doesnt",
  "isnt",
  "wasnt",
  "werent",
  "cant",
  "wont",
  "aint",
  "hasnt",
  "havent",
  "wouldnt",
  "couldnt",
  "shouldnt",
  "im",
  "ive",
  "hes",
  "shes",
  "theyre",
  "youre",
  "thats",
  "whats",
  "lets",
  "gonna",
  "wanna",
  "gotta",
  "kinda",
  "sorta",
  "prob",
  "probs",
  "tmrw",
  "tmr",
  "rly",
  "srsly",
  "btw",
  "imo",
  "smh",
  "ikr",
  "tho",
]);
const ES_STOP = new Set([
  "y",
  "e",
  "o",
  "u",
  "que",
  "q",
  "de",
  "del",
  "la",
  "el",
  "los",
  "las",
  "un",
  "una",
  "es",
  "era",
  "dice",
  "dijo",
  "me",
  "te",
  "se",
  "le",
  "les",
  "lo",
  "su",
  "sus",
  "mi",
  "mis",
  "tu",
  "no",
  "si",
  "sí",
  "ya",
  "va",
  "van",
  "vive",
  "viene",
  "vienen",
  "quiere",
  "quieren",
  "tiene",
  "tienen",
  "esta",
  "está",
  "son",
  "fue",
  "pide",
  "con",
  "en",
  "para",
  "por",
  "a",
  "al",
  "jaja",
  "jajaja",
  "xq",
  "pq",
  "porque",
  "también",
  "tambien",
  "entro",
  "entró",
  "y",
  "muy",
  "mas",
  "más",
  "nos",
  "dice",
  "hizo",
  "hace",
  "estan",
  "están",
  "siempre",
  "nunca",
  "ahora",
  "hoy",
  "ayer",
]);
const VI_STOP = new Set([
  "là",
  "của",
  "ở",
  "với",
  "vs",
  "và",
  "sắp",
  "đã",
  "đang",
  "sẽ",
  "nói",
  "bảo",
  "kêu",
  "rủ",
  "đi",
  "có",
  "không",
  "ko",
  "k",
  "thì",
  "mà",
  "nhà",
  "học",
  "t",
  "tôi",
  "mình",
  "em",
  "nó",
  "tao",
  "tớ",
  "giáo",
  "ơi",
  "cũng",
  "vừa",
  "mới",
  "hay",
  "rất",
  "lại",
  "ấy",
  "đó",
  "này",
  "kia",
  "bị",
  "được",
  "cho",
  "muốn",
  "hỏi",
  "dạy",
  "giao",
  "gọi",
  "nhắn",
  "gửi",
  "thân",
  "gái",
  "trai",
  "họ",
  "ngoại",
  "nội",
  "lớp",
  "trường",
  "số",
  "sinh",
  "ghi",
  "làm",
  "viết",
  "giúp",
  "nhé",
  "nha",
  "mấy",
  "bao",
  "gì",
  "sao",
  "đâu",
  "ai",
  "hoặc",
  "cùng",
  "ra",
  "vào",
  "lên",
  "xuống",
  "về",
  "rồi",
  "nhiều",
  "các",
  "những",
  "một",
  "hai",
  "ba",
  "bốn",
  "năm",
  "sáu",
  "bảy",
  "tám",
  "chín",
  "mười",
  "em",
  "bè",
  "con",
  "chủ",
  "nhiệm",
  "ta",
  "tui",
  "bác",
  "chú",
  "cô",
  "anh",
  "chị",
  "bà",
  "ông",
  "thầy",
  "dì",
  "bạn",
  "đẹp",
  "giỏi",
  "thích",
  "yêu",
  "ghét",
  "thấy",
  "biết",
  "đến",
  "tới",
  "từ",
  "trong",
  "ngoài",
  "khi",
  "lúc",
]);
// Titles that may stand between a relation and the name ("bà ngoại t bà sáu", "my uncle mr. lee").
const VI_TITLES = new Set(["bà", "ông", "cô", "chú", "bác", "anh", "chị", "dì", "cậu", "thầy"]);
const ES_TITLES = new Set(["don", "doña", "dona", "sr", "sra", "srta", "señor", "señora", "profe", "tío", "tio", "tía", "tia"]);
// A relation word and the next word that together are an ordinary word, not a title and a name.
const VI_COMPOUNDS = new Set(["anh hùng", "anh em", "chị em", "bà con", "ông bà", "bố mẹ", "ba mẹ", "cha mẹ"]);
// Questions about public people ("hai bà trưng là ai", "quien fue don benito"): a bare title
// there names a historical figure; a possessive ("my aunt", "mi tía", "cô của t") still marks family.
const PUBLIC_QUESTION = /(?<![\p{L}])(?:who\s+(?:was|is|were)|là ai|quien\s+(?:fue|era|es)|quién\s+(?:fue|era|es))(?![\p{L}])/iu;
const POSSESSIVE = /(?<![\p{L}])(?:my|our|his|her|their|your|ur|mi|mis|tu|tus|su|sus|t|tôi|mình|em|tao|tớ|của)(?![\p{L}])/iu;
// Ordinal kin names are how Vietnamese families name elders ("bác tư", "bà sáu"): names here.
const VI_KIN_ORDINALS = new Set(["hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "út"]);
const LIST_JOINERS = new Set([",", "and", "&", "y", "e", "và", "với", "vs"]);
const PLURAL_CUE =
  /(?:friends|cousins|sisters|brothers|classmates|siblings|besties|amig[oa]s|prim[oa]s|herman[oa]s|compas|compañer[oa]s|t[ií][oa]s|bạn|sobrin[oa]s)\s*,?\s*$/iu;

function acceptsName(token: Token, lang: MessageLanguage, afterCue: boolean): boolean {
  if (!WORD.test(token.text) || [...token.text].length < 2) return false;
  if (lang === "vi") return !VI_STOP.has(token.lower) || (afterCue && VI_KIN_ORDINALS.has(token.lower));
  if (lang === "es") return !ES_STOP.has(token.lower) && !EN_STOP.has(token.lower);
  if (EN_STOP.has(token.lower)) return false;
  if (isFirstName(token.text)) return true;
  // Adverbs the lexicon does not list ("ask my teacher politely").
  if (/ly$/.test(token.lower) && token.lower.length > 5) return false;
  // After a relation an unknown word is a name ("my uncle raj"), and so is a word the lexicon
  // knows only as a noun ("my stepdad ray", "my grandpa jan"); never a verb ("my mom says").
  return !isKnownWord(token.text) || (afterCue && isNounOnly(token.text));
}

function secondPart(token: Token | undefined, lang: MessageLanguage): boolean {
  if (!token || !WORD.test(token.text)) return false;
  if (isFirstName(token.text) || isLastName(token.text)) return true;
  if (lang === "vi") return !VI_STOP.has(token.lower);
  if (lang === "es") return /^\p{Lu}/u.test(token.text);
  return !EN_STOP.has(token.lower) && !isKnownWord(token.text);
}

/** Tokens joined by a single space or hyphen, so "ana sofia" is one name but "ana, sofia" is not. */
function adjacent(text: string, a: Token, b: Token): boolean {
  return /^[ -]$/.test(text.slice(a.end, b.start));
}

// Questions about public or fictional people: their names are the subject, not personal data.
const PUBLIC_PERSON_CONTEXT =
  /(?<![\p{L}])(?:who\s+(?:was|is|were|wrote|painted|invented|discovered|said|won|played|sang|killed|founded)|what\s+did|why\s+did|why\s+does|how\s+did|when\s+did|what\s+does|character|characters|novel|book|story|play|poem|author|president|king|queen|emperor|singer|actor|actress|painter|scientist|inventor|the\s+great|famous|speech|quote|mockingbird|gatsby|shakespeare|romeo|juliet)(?![\p{L}])/iu;

/** Other people's names, as `person` spans. */
export function findOtherPeople(text: string, lang: MessageLanguage): PiiSpan[] {
  const tokens = tokenize(text);
  const spans: PiiSpan[] = [];
  const cue = lang === "vi" ? VI_CUE : lang === "es" ? ES_CUE : EN_CUE;
  // Where a relation or title ends: one pass over the text, not a regex per word.
  const cueEnds = new Set<number>();
  for (const m of text.matchAll(cue)) cueEnds.add(m.index + m[0].length);
  const taken = new Set<number>();
  const take = (i: number, afterCue: boolean): number => {
    const first = tokens[i];
    if (!first || taken.has(i) || !acceptsName(first, lang, afterCue)) return i;
    let last = i;
    const next = tokens[i + 1];
    const allowSecond = lang === "vi" ? !VI_KIN_ORDINALS.has(first.lower) : true;
    if (allowSecond && next && adjacent(text, first, next) && secondPart(next, lang)) last = i + 1;
    for (let k = i; k <= last; k++) taken.add(k);
    spans.push({ kind: "person", start: first.start, end: tokens[last]?.end ?? first.end });
    return last + 1;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token || taken.has(i)) continue;
    if (!cueEnds.has(token.start)) continue;
    const before = text.slice(Math.max(0, token.start - 40), token.start);
    let j = i;
    // "bà ngoại t bà sáu", "my uncle mr. lee": skip a title between the relation and the name.
    while (lang === "vi" && tokens[j] && VI_TITLES.has(tokens[j]?.lower ?? "") && tokens[j + 1] && !VI_STOP.has(tokens[j + 1]?.lower ?? "x")) j++;
    while (lang === "es" && tokens[j] && ES_TITLES.has(tokens[j]?.lower ?? "") && tokens[j + 1]) j++;
    const previous = tokens[j - 1];
    if (lang === "vi" && previous && VI_COMPOUNDS.has(`${previous.lower} ${tokens[j]?.lower ?? ""}`)) continue;
    if (PUBLIC_QUESTION.test(text) && !POSSESSIVE.test(before)) continue;
    let after = take(j, true);
    if (after === j || !PLURAL_CUE.test(before)) continue;
    // "my friends harper, zoe and mia", "mis primas yesenia y lorena".
    while (after < tokens.length && LIST_JOINERS.has(tokens[after]?.lower ?? "")) {
      let k = after + 1;
      if (tokens[after]?.lower === "," && LIST_JOINERS.has(tokens[k]?.lower ?? "")) k++;
      const next = take(k, true);
      if (next === k) break;
      after = next;
    }
  }
  if (lang !== "en" || PUBLIC_PERSON_CONTEXT.test(text)) return spans;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token || taken.has(i) || EN_STOP.has(token.lower) || !/^\p{L}{3,}$/u.test(token.text)) continue;
    if (!isFirstName(token.text)) {
      // A word the lexicon does not know, right before "said" / "and i": a name it lacks.
      if (!isKnownWord(token.text) && !isLastName(token.text) && EN_NAME_AFTER.test(text.slice(token.end, token.end + 20))) {
        spans.push({ kind: "person", start: token.start, end: token.end });
      }
      continue;
    }
    // "we say grace", "will you": without a relation word these need a capital letter.
    if (ENGLISH_WORD_NAMES.has(token.lower) && !/^\p{Lu}/u.test(token.text)) continue;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    // "got into howard", "in jackson": after these, a name is more often a place.
    if (prev && /^(?:into|in|at)$/.test(prev.lower)) continue;
    const withSurname =
      (next &&
        adjacent(text, token, next) &&
        WORD.test(next.text) &&
        (isLastName(next.text) || isFirstName(next.text) || isNounOnly(next.text) || !isKnownWord(next.text) || next.possessive) &&
        !EN_STOP.has(next.lower)) ||
      (prev && adjacent(text, prev, token) && isFirstName(prev.text) && !EN_STOP.has(prev.lower));
    if (withSurname) continue;
    spans.push({ kind: "person", start: token.start, end: token.end });
  }
  return spans;
}
