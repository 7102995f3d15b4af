import type { StudentInfo } from "../types.ts";
import { checkedPiiConfig, type PiiConfig, redactChecked } from "./pii-filter.ts";

// Redaction is a pure function of the text, the config, the student's names and the year (birth
// dates are judged by age). A chat turn redacts every earlier student message it sends to the
// provider, the same texts turn after turn; remembering the results makes that once per text.
const MAX_ENTRIES = 2000;
const MAX_TEXT_CHARS = 4000;
const memo = new Map<string, string>();

/**
 * A `redactPii` for many texts under one config, student and date, returning only the redacted
 * text: the config is checked once, and results are remembered per process (bounded, least
 * recently used dropped first), so history sent again on every turn is not scanned again.
 */
export function createHistoryRedactor(opts: { student?: StudentInfo | undefined; now: Date; config?: Partial<PiiConfig> | undefined }): (text: string) => string {
  const config = checkedPiiConfig(opts.config);
  const student = opts.student;
  const scope = JSON.stringify([
    config,
    opts.now.getUTCFullYear(),
    student ? [student.id, student.displayName ?? null, student.givenName ?? null, student.familyName ?? null] : null,
  ]);
  return (text) => {
    if (text.length > MAX_TEXT_CHARS) return redactChecked(text, student, opts.now, config).text;
    const key = `${scope}\u0000${text}`;
    const known = memo.get(key);
    if (known !== undefined) {
      memo.delete(key);
      memo.set(key, known);
      return known;
    }
    const redacted = redactChecked(text, student, opts.now, config).text;
    memo.set(key, redacted);
    if (memo.size > MAX_ENTRIES) {
      const oldest = memo.keys().next();
      if (!oldest.done) memo.delete(oldest.value);
    }
    return redacted;
  };
}
