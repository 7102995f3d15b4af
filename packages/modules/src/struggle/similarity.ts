// Words that make unrelated questions look alike ("what is the…") without carrying meaning.
const STOPWORDS = new Set([
  "a",
  "an",
  "the",
  "is",
  "are",
  "was",
  "were",
  "be",
  "to",
  "of",
  "in",
  "on",
  "for",
  "and",
  "or",
  "it",
  "this",
  "that",
  "i",
  "you",
  "me",
  "my",
  "do",
  "does",
  "did",
  "can",
  "could",
  "please",
  "what",
  "how",
  "why",
  "so",
  "just",
  "again",
  "pls",
  "plz",
  "u",
]);

/** Lower case, apostrophes dropped, punctuation to spaces. */
export function normalizeForSimilarity(text: string): string {
  return text
    .toLowerCase()
    .replace(/['’]/g, "")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** Content words of a message (stopwords removed). */
export function contentTokens(text: string): string[] {
  return normalizeForSimilarity(text)
    .split(" ")
    .filter((t) => t.length > 0 && !STOPWORDS.has(t));
}

function jaccard<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): number {
  if (a.size === 0 && b.size === 0) return 0;
  // Iterate the smaller set: the count is the same either way.
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let inter = 0;
  for (const x of small) if (large.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** What similarity needs of one message, computed once however many messages it is compared with. */
export interface SimilarityFeatures {
  normalized: string;
  /** Content words, with repeats (their count decides whether a message is substantive). */
  tokenCount: number;
  tokens: ReadonlySet<string>;
  /** Character trigrams of the normalised text padded with a space, each as its three UTF-16 units packed in one number. */
  trigrams: ReadonlySet<number>;
}

export function similarityFeatures(text: string): SimilarityFeatures {
  const normalized = normalizeForSimilarity(text);
  const tokens = normalized.split(" ").filter((t) => t.length > 0 && !STOPWORDS.has(t));
  const padded = ` ${normalized} `;
  // Numbers, not three-character strings: no string per trigram, and cheaper to hash. A trigram
  // is three 16-bit units, so the packing (< 2^48) is exact and one-to-one.
  const trigrams = new Set<number>();
  for (let i = 0; i + 3 <= padded.length; i++) {
    trigrams.add(padded.charCodeAt(i) * 0x100000000 + padded.charCodeAt(i + 1) * 0x10000 + padded.charCodeAt(i + 2));
  }
  return { normalized, tokenCount: tokens.length, tokens: new Set(tokens), trigrams };
}

/** {@link messageSimilarity} of two messages' precomputed features. */
export function featureSimilarity(a: SimilarityFeatures, b: SimilarityFeatures): number {
  return Math.max(jaccard(a.tokens, b.tokens), jaccard(a.trigrams, b.trigrams));
}

/**
 * Similarity of two messages in 0..1: the larger of content-token Jaccard (same words, any
 * order) and character-trigram Jaccard (same words, small typos).
 */
export function messageSimilarity(a: string, b: string): number {
  return featureSimilarity(similarityFeatures(a), similarityFeatures(b));
}
