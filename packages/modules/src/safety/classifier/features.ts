import { classifierForm } from "../normalize.ts";

/** Feature ids are hashed into this many buckets (2^20): collisions are rare at this vocabulary size. */
export const FEATURE_BUCKETS = 1 << 20;

/** A sparse, L2-normalised feature vector: parallel arrays of bucket ids and values. */
export interface FeatureVector {
  ids: Uint32Array;
  values: Float64Array;
}

// FNV-1a over UTF-16 units: tiny, deterministic across runs and platforms, good enough spread.
function hash(feature: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < feature.length; i++) {
    h ^= feature.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % FEATURE_BUCKETS;
}

const WORD = /[\p{L}\p{N}']+/gu;

/**
 * What the classifier sees in a message: word unigrams and bigrams (phrasing: "end it", "no
 * como") and character 3- to 5-grams inside word boundaries (misspellings, inflections and
 * Vietnamese syllables without diacritics: "suicid", "matar", "chet"). Counts are ignored
 * (presence only) and the vector is scaled to unit length, so a long run-on does not drown
 * its one worrying clause in sheer volume any more than a short line does.
 */
export function extractFeatures(text: string): FeatureVector {
  const form = classifierForm(text);
  const words = form.match(WORD)?.map((w) => w.replace(/^'+|'+$/g, "")).filter((w) => w.length > 0) ?? [];
  const seen = new Set<number>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? "";
    seen.add(hash(`w:${w}`));
    if (i + 1 < words.length) seen.add(hash(`b:${w} ${words[i + 1]}`));
    const padded = ` ${w} `;
    for (let n = 3; n <= 5; n++) {
      for (let j = 0; j + n <= padded.length; j++) seen.add(hash(`c:${padded.slice(j, j + n)}`));
    }
  }
  const ids = Uint32Array.from([...seen].sort((a, b) => a - b));
  const scale = ids.length > 0 ? 1 / Math.sqrt(ids.length) : 0;
  return { ids, values: new Float64Array(ids.length).fill(scale) };
}
