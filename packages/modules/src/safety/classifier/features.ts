import { classifierForm } from "../normalize.ts";

/** Feature ids are hashed into this many buckets (2^20): collisions are rare at this vocabulary size. */
export const FEATURE_BUCKETS = 1 << 20;

/**
 * Weight of a character n-gram relative to a word n-gram. In cross-validation on the training
 * lines, full-weight character n-grams drowned the word signal (English recall at 3% false alerts
 * ~62%, against ~70–73% without them or at 0.3); at 0.3 they cost nothing measurable and still
 * give misspellings no training line showed something to match.
 */
const CHAR_WEIGHT = 0.3;

/** A sparse, L2-normalised feature vector: parallel arrays of bucket ids and values. */
export interface FeatureVector {
  ids: Uint32Array;
  values: Float64Array;
}

// FNV-1a over UTF-16 units: tiny, deterministic across runs and platforms, good enough spread.
// A feature's id is the hash of its text (`c:`/`w:`/`b:`/`t:` + the n-gram); the hash is folded
// in place over the words instead of building each feature's string, which the message's few
// hundred n-grams per turn would otherwise allocate.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fold(h: number, text: string, from = 0, to = text.length): number {
  let out = h;
  for (let i = from; i < to; i++) out = Math.imul(out ^ text.charCodeAt(i), FNV_PRIME);
  return out;
}

const bucket = (h: number) => (h >>> 0) % FEATURE_BUCKETS;
const SPACE = 0x20;
const PREFIX_C = fold(FNV_OFFSET, "c:");
const PREFIX_W = fold(FNV_OFFSET, "w:");
const PREFIX_B = fold(FNV_OFFSET, "b:");
const PREFIX_T = fold(FNV_OFFSET, "t:");

// Reused across calls (a message is handled synchronously): three rows of n-gram buckets per word.
let scratch = new Uint32Array(256);

const WORD = /[\p{L}\p{N}']+/gu;

/**
 * What the classifier sees in a message: word uni-, bi- and trigrams (phrasing: "end it all",
 * "no como nada") and, at a lower weight, character 3- to 5-grams inside words (misspellings,
 * inflections, Vietnamese syllables typed without diacritics). Presence only, scaled to unit
 * length, so a long run-on does not outweigh a short line by sheer volume.
 */
export function extractFeatures(text: string): FeatureVector {
  return featuresOfForm(classifierForm(text));
}

/** {@link extractFeatures} of a text already in its classifier form (`classifierForm`). */
export function featuresOfForm(form: string): FeatureVector {
  const words =
    form
      .match(WORD)
      ?.map((w) => w.replace(/^'+|'+$/g, ""))
      .filter((w) => w.length > 0) ?? [];
  const features = new Map<number, number>();
  for (const w of words) {
    // The word padded with a space each side (` ${w} `): its 3- to 5-grams from every start,
    // hashed incrementally, then entered n by n as the training code enters them (the order
    // of the map decides the order of the norm's sum below).
    const padded = w.length + 2;
    const unit = (k: number) => (k === 0 || k === padded - 1 ? SPACE : w.charCodeAt(k - 1));
    if (scratch.length < padded * 3) scratch = new Uint32Array(padded * 6);
    for (let j = 0; j + 3 <= padded; j++) {
      let h = PREFIX_C;
      for (let k = j; k < j + 5 && k < padded; k++) {
        h = Math.imul(h ^ unit(k), FNV_PRIME);
        if (k - j >= 2) scratch[(k - j - 2) * padded + j] = bucket(h);
      }
    }
    for (let n = 3; n <= 5; n++) {
      for (let j = 0; j + n <= padded; j++) features.set(scratch[(n - 3) * padded + j] ?? 0, CHAR_WEIGHT);
    }
  }
  // Word features second: a bucket shared with a character n-gram keeps the word's weight.
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? "";
    features.set(bucket(fold(PREFIX_W, w)), 1);
    const next = words[i + 1];
    if (next === undefined) continue;
    const bigram = fold(Math.imul(fold(PREFIX_B, w) ^ SPACE, FNV_PRIME), next);
    features.set(bucket(bigram), 1);
    const third = words[i + 2];
    if (third === undefined) continue;
    const trigramHead = fold(Math.imul(fold(PREFIX_T, w) ^ SPACE, FNV_PRIME), next);
    features.set(bucket(fold(Math.imul(trigramHead ^ SPACE, FNV_PRIME), third)), 1);
  }
  const ids = Uint32Array.from(features.keys()).sort();
  let norm = 0;
  for (const v of features.values()) norm += v * v;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return { ids, values: Float64Array.from(ids, (id) => (features.get(id) ?? 0) * scale) };
}
