import { LRUCache } from "lru-cache";
import type { StudentInfo } from "../types.ts";
import { checkedPiiConfig, type PiiConfig, type PiiRedaction, redactChecked } from "./redact.ts";

// Redaction is a pure function of the text, the config, the student's names and the year (birth
// dates are judged by age). A chat turn redacts every earlier student message it sends to the
// provider, the same texts turn after turn; remembering the results makes that once per text.
// The module redacting the turn's own message goes through the same memory, so the message is
// not redacted again when it comes back as history on the next turn (if the school stores it as
// written, or nothing was found in it).
const MAX_ENTRIES = 2000;
const MAX_TEXT_CHARS = 4000;
const memo = new LRUCache<string, PiiRedaction>({ max: MAX_ENTRIES });
const configJson = new WeakMap<PiiConfig, string>();

/** One student's redaction under one config and date: `redact` gives `redactPii`'s result, remembered. */
export interface RememberedRedactor {
  redact(text: string): PiiRedaction;
}

/**
 * `redactPii` under one config, student and date, the config checked once and results remembered
 * per process (bounded, least recently used dropped first). The results are shared: never change one.
 */
export function rememberedRedactor(opts: { student?: StudentInfo | undefined; now: Date; config?: Partial<PiiConfig> | undefined }): RememberedRedactor {
  const config = checkedPiiConfig(opts.config);
  const student = opts.student;
  let json = configJson.get(config);
  if (json === undefined) {
    json = JSON.stringify(config);
    configJson.set(config, json);
  }
  const scope = JSON.stringify([
    json,
    opts.now.getUTCFullYear(),
    student ? [student.id, student.displayName ?? null, student.givenName ?? null, student.familyName ?? null] : null,
  ]);
  return {
    redact(text) {
      if (text.length > MAX_TEXT_CHARS) return redactChecked(text, student, opts.now, config);
      const key = `${scope}\u0000${text}`;
      const known = memo.get(key);
      if (known !== undefined) return known;
      const redaction = redactChecked(text, student, opts.now, config);
      memo.set(key, redaction);
      return redaction;
    },
  };
}

/**
 * A `redactPii` for many texts under one config, student and date, returning only the redacted
 * text: the config is checked once, and results are remembered per process (bounded, least
 * recently used dropped first), so history sent again on every turn is not scanned again.
 */
export function createHistoryRedactor(opts: { student?: StudentInfo | undefined; now: Date; config?: Partial<PiiConfig> | undefined }): (text: string) => string {
  const redactor = rememberedRedactor(opts);
  return (text) => redactor.redact(text).text;
}
