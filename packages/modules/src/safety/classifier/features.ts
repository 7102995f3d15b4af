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

// The message's distinct buckets in first-insertion order with their weights, and an
// open-addressing table from bucket to that order (a bucket is < 2^20, so -1 marks a free slot).
// Reused across calls for the same reason: a Map and two typed-array copies of it per message
// were most of the classifier's time on the live path. The table is kept at most half full
// (short probes), so the order holds half its size.
let table = new Int32Array(2048).fill(-1);
let order = new Uint32Array(table.length / 2);
let weight = new Float64Array(table.length / 2);
let count = 0;

function slotOf(id: number): number {
  const mask = table.length - 1;
  let slot = (Math.imul(id, 0x9e3779b1) >>> 0) & mask;
  for (;;) {
    const at = table[slot] ?? -1;
    if (at === -1 || order[at] === id) return slot;
    slot = (slot + 1) & mask;
  }
}

/** As `Map.set`: a new bucket takes the next place in the order, a known one keeps its place. */
function put(id: number, value: number): void {
  let slot = slotOf(id);
  const at = table[slot] ?? -1;
  if (at !== -1) {
    weight[at] = value;
    return;
  }
  if (count === order.length) {
    grow();
    slot = slotOf(id);
  }
  table[slot] = count;
  order[count] = id;
  weight[count] = value;
  count++;
}

function grow(): void {
  const size = table.length * 2;
  const nextOrder = new Uint32Array(size / 2);
  nextOrder.set(order.subarray(0, count));
  const nextWeight = new Float64Array(size / 2);
  nextWeight.set(weight.subarray(0, count));
  order = nextOrder;
  weight = nextWeight;
  table = new Int32Array(size).fill(-1);
  for (let i = 0; i < count; i++) table[slotOf(order[i] ?? 0)] = i;
}

// Newest first: undoing linear-probing inserts in reverse leaves every remaining probe chain whole.
function clear(): void {
  for (let i = count - 1; i >= 0; i--) table[slotOf(order[i] ?? 0)] = -1;
  count = 0;
}

const WORD = /[\p{L}\p{N}']+/gu;
const QUOTE = 0x27;

/** The message's words with their leading and trailing apostrophes dropped, empty ones left out. */
function wordsOf(form: string): string[] {
  const words: string[] = [];
  WORD.lastIndex = 0;
  for (let m = WORD.exec(form); m !== null; m = WORD.exec(form)) {
    const w = m[0];
    let from = 0;
    let to = w.length;
    while (from < to && w.charCodeAt(from) === QUOTE) from++;
    while (to > from && w.charCodeAt(to - 1) === QUOTE) to--;
    if (to > from) words.push(from === 0 && to === w.length ? w : w.slice(from, to));
  }
  return words;
}

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
  const words = wordsOf(form);
  clear();
  for (const w of words) {
    // The word padded with a space each side (` ${w} `): its 3- to 5-grams from every start,
    // hashed incrementally, then entered n by n as the training code enters them (the order
    // of entry decides the order of the norm's sum below).
    const padded = w.length + 2;
    if (scratch.length < padded * 3) scratch = new Uint32Array(padded * 6);
    for (let j = 0; j + 3 <= padded; j++) {
      let h = PREFIX_C;
      for (let k = j; k < j + 5 && k < padded; k++) {
        h = Math.imul(h ^ (k === 0 || k === padded - 1 ? SPACE : w.charCodeAt(k - 1)), FNV_PRIME);
        if (k - j >= 2) scratch[(k - j - 2) * padded + j] = bucket(h);
      }
    }
    for (let n = 3; n <= 5; n++) {
      for (let j = 0; j + n <= padded; j++) put(scratch[(n - 3) * padded + j] ?? 0, CHAR_WEIGHT);
    }
  }
  // Word features second: a bucket shared with a character n-gram keeps the word's weight.
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? "";
    put(bucket(fold(PREFIX_W, w)), 1);
    const next = words[i + 1];
    if (next === undefined) continue;
    const bigram = fold(Math.imul(fold(PREFIX_B, w) ^ SPACE, FNV_PRIME), next);
    put(bucket(bigram), 1);
    const third = words[i + 2];
    if (third === undefined) continue;
    const trigramHead = fold(Math.imul(fold(PREFIX_T, w) ^ SPACE, FNV_PRIME), next);
    put(bucket(fold(Math.imul(trigramHead ^ SPACE, FNV_PRIME), third)), 1);
  }
  let norm = 0;
  for (let i = 0; i < count; i++) norm += (weight[i] ?? 0) * (weight[i] ?? 0);
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  const ids = order.slice(0, count).sort();
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = (weight[table[slotOf(ids[i] ?? 0)] ?? 0] ?? 0) * scale;
  return { ids, values };
}
