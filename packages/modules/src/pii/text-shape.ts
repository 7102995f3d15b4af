// Characters a detector's every match needs: a text without them skips that detector's patterns.
// Asked once per detector; each is a single scan that stops at the first hit.

const DIGIT = /\d/;
const NUMBER = /\p{N}/u;

/** An ASCII digit, which every `\d` in the patterns needs (`\d` is ASCII even with the `u` flag). */
export function hasDigit(text: string): boolean {
  return DIGIT.test(text);
}

/** Any Unicode number (`\p{N}`: digits in every script, "²", "½"). */
export function hasNumber(text: string): boolean {
  return NUMBER.test(text);
}
