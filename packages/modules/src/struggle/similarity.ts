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
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

function trigrams(text: string): Set<string> {
  const s = ` ${normalizeForSimilarity(text)} `;
  const grams = new Set<string>();
  for (let i = 0; i + 3 <= s.length; i++) grams.add(s.slice(i, i + 3));
  return grams;
}

/**
 * Similarity of two messages in 0..1: the larger of content-token Jaccard (same words, any
 * order) and character-trigram Jaccard (same words, small typos).
 */
export function messageSimilarity(a: string, b: string): number {
  return Math.max(jaccard(new Set(contentTokens(a)), new Set(contentTokens(b))), jaccard(trigrams(a), trigrams(b)));
}
