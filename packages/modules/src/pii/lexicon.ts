import nlp from "compromise/two";

/**
 * English word knowledge from compromise's lexicon (about 24,000 entries, ~3,000 of them given
 * names, kept up by the library). Only the lexicon is used, never compromise's full parse: a
 * lookup costs nanoseconds, a parse costs milliseconds per sentence, and student messages run on
 * the live path. The lexicon tags each word once, by its most common use, so "may" is a modal and
 * "hope" a noun while "tyler" and "brianna" are names.
 */
const lexicon: Record<string, unknown> = (nlp.model() as { one?: { lexicon?: Record<string, unknown> } }).one?.lexicon ?? {};

const NAME_TAGS = new Set(["FirstName", "MaleName", "FemaleName", "Person"]);
const NOUN_TAGS = new Set(["Noun", "Singular", "Uncountable", "Month", "ProperNoun"]);
// Tags for proper nouns and the catch-all "Noun", which the lexicon gives to names of peoples and
// places as well ("maya", "brooklyn"): not evidence that a name is an everyday word.
const PROPER_TAGS = new Set(["Noun", "ProperNoun", "Place", "City", "Country", "Region", "Demonym", "Organization", "SportsTeam", "Person", "LastName", ...NAME_TAGS]);

// The lexicon is a plain object of ~24,000 keys; every question below is asked for most words of
// every message, so the answers are sorted into sets once, at load.
const FIRST_NAMES = new Set<string>();
const LAST_NAMES = new Set<string>();
const NOUNS_ONLY = new Set<string>();
const ORDINARY = new Set<string>();
const KNOWN = new Set<string>();
for (const [word, entry] of Object.entries(lexicon)) {
  const tags = typeof entry === "string" ? [entry] : Array.isArray(entry) ? entry.filter((t): t is string => typeof t === "string") : [];
  if (tags.length === 0) continue;
  if (tags.some((t) => NAME_TAGS.has(t))) FIRST_NAMES.add(word);
  if (tags.includes("LastName")) LAST_NAMES.add(word);
  if (tags.every((t) => NOUN_TAGS.has(t))) NOUNS_ONLY.add(word);
  if (tags.every((t) => !PROPER_TAGS.has(t))) ORDINARY.add(word);
  if (!tags.some((t) => NAME_TAGS.has(t) || t === "LastName")) KNOWN.add(word);
}

/** A given name in compromise's lexicon whose main use is as a name ("tyler", not "may"). */
export function isFirstName(word: string): boolean {
  return FIRST_NAMES.has(word.toLowerCase());
}

/** A surname in the lexicon ("lincoln", "lee"). */
export function isLastName(word: string): boolean {
  return LAST_NAMES.has(word.toLowerCase());
}

/** An English word the lexicon knows only as a noun ("ray", "potter", "jan"): a name can be one. */
export function isNounOnly(word: string): boolean {
  return NOUNS_ONLY.has(word.toLowerCase());
}

/** An everyday English word ("hope", "poppy", "may"), as opposed to a name or a place. */
export function isOrdinaryWord(word: string): boolean {
  return ORDINARY.has(word.toLowerCase());
}

/** An English word whose main use is not a person's name ("private", "wants", "when"). */
export function isKnownWord(word: string): boolean {
  return KNOWN.has(word.toLowerCase());
}

/**
 * Given and family names that are also everyday English words. Redacting every "will", "grace"
 * or "brown" would mangle the student's questions ("I will finish", "the brown fox"), so these
 * count as the name only when written like one: capitalised mid-sentence, after a naming cue
 * ("my name is will", "it's will"), next to another part of the student's name, or as a greeting
 * at the start ("Grace here", "Will is my name").
 */
export const ENGLISH_WORD_NAMES = new Set([
  "will",
  "may",
  "grace",
  "hope",
  "faith",
  "joy",
  "rose",
  "summer",
  "autumn",
  "april",
  "june",
  "august",
  "mark",
  "bill",
  "art",
  "pat",
  "sue",
  "rob",
  "jack",
  "dawn",
  "amber",
  "iris",
  "ivy",
  "lily",
  "daisy",
  "holly",
  "ruby",
  "pearl",
  "sky",
  "river",
  "brook",
  "rain",
  "storm",
  "star",
  "sunny",
  "honey",
  "angel",
  "destiny",
  "hunter",
  "chase",
  "drew",
  "max",
  "miles",
  "bob",
  "carol",
  "frank",
  "gene",
  "guy",
  "jay",
  "jean",
  "ray",
  "reed",
  "rich",
  "rusty",
  "sandy",
  "young",
  "white",
  "brown",
  "green",
  "black",
  "gray",
  "grey",
  "king",
  "hill",
  "wood",
  "woods",
  "baker",
  "cook",
  "long",
  "short",
  "little",
  "small",
  "sharp",
  "bell",
  "ball",
  "hall",
  "stone",
  "field",
  "moss",
  "price",
  "page",
  "rice",
  "bush",
  "marsh",
  "fox",
  "wolf",
  "bird",
  "swift",
  "hunt",
  "love",
  "best",
  "bond",
  "gold",
  "silver",
  "law",
  "park",
  "lane",
  "north",
  "south",
  "west",
  "east",
  "mason",
  "carpenter",
  "potter",
  "fisher",
  "miller",
  "glass",
  "snow",
  "frost",
  "winter",
  "spring",
  "day",
  "knight",
  "rivers",
  "banks",
  "wells",
  "case",
  "cash",
  "major",
  "noble",
  "sterling",
  "aurora",
]);

export { guessLanguage, type MessageLanguage } from "./language.ts";
