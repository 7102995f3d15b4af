// Finding and replacing personal information: the pure functions behind the pii-filter module.
import { z } from "zod";
import type { StudentInfo } from "../types.ts";
import { findHandles, findStudentIds } from "./accounts.ts";
import { findAddresses } from "./address.ts";
import { findEmails, findPhones } from "./contact.ts";
import { findDatesOfBirth } from "./dob.ts";
import { guessLanguage } from "./lexicon.ts";
import { findStudentName } from "./name.ts";
import { findOtherPeople } from "./people.ts";
import { PII_KINDS, type PiiKind, type PiiSpan } from "./types.ts";

/** Replacement token per kind. */
export const PII_TOKENS: Record<PiiKind, string> = {
  email: "[email]",
  phone: "[phone]",
  address: "[address]",
  dob: "[date of birth]",
  name: "[name]",
  person: "[name]",
  student_id: "[student id]",
  handle: "[handle]",
};

export const piiConfigSchema = z.strictObject({
  /**
   * What the school keeps: `false` (default) stores the redacted text, so stored history sent to
   * the provider on later turns is clean too; `true` stores the student's original words.
   */
  storeOriginal: z.boolean().default(false),
  /** Which kinds to redact. */
  kinds: z
    .strictObject({
      email: z.boolean().default(true),
      phone: z.boolean().default(true),
      address: z.boolean().default(true),
      dob: z.boolean().default(true),
      name: z.boolean().default(true),
      person: z.boolean().default(true),
      student_id: z.boolean().default(true),
      handle: z.boolean().default(true),
    })
    .prefault({}),
  /** Ages (inclusive) for which a bare full date in a first-person sentence counts as a birth date. */
  childAgeMin: z.number().int().min(0).max(30).default(4),
  childAgeMax: z.number().int().min(0).max(30).default(19),
});
export type PiiConfig = z.output<typeof piiConfigSchema>;

/** The result of redacting one text. `spans` point into the ORIGINAL text. */
export interface PiiRedaction {
  text: string;
  spans: PiiSpan[];
  counts: Partial<Record<PiiKind, number>>;
}

// An address runs on over the lines after the street; it must not swallow a phone number or an
// e-mail another detector found there ("…Poplar Street, call 07700 900999"). Names inside it stay
// inside it: streets and towns are named after people.
const SEPARATE_ITEMS = new Set<PiiKind>(["email", "phone", "student_id", "handle", "dob"]);
function trimAddresses(spans: PiiSpan[], text: string): PiiSpan[] {
  return spans.map((span) => {
    if (span.kind !== "address") return span;
    const cut = Math.min(span.end, ...spans.filter((o) => SEPARATE_ITEMS.has(o.kind) && o.start > span.start && o.start < span.end).map((o) => o.start));
    if (cut === span.end) return span;
    const end = span.start + text.slice(span.start, cut).replace(/[\s,;:]+$/u, "").length;
    return { ...span, end };
  });
}

// Longest span wins where two detectors overlap ("maya.okafor@gmail.com" is one email, not an
// email plus a name); ties go to the kind listed first in PII_KINDS.
function resolveOverlaps(spans: PiiSpan[]): PiiSpan[] {
  const sorted = [...spans].sort((a, b) => b.end - b.start - (a.end - a.start) || PII_KINDS.indexOf(a.kind) - PII_KINDS.indexOf(b.kind) || a.start - b.start);
  const kept: PiiSpan[] = [];
  for (const span of sorted) {
    if (!kept.some((k) => span.start < k.end && k.start < span.end)) kept.push(span);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/**
 * Finds and replaces personal information in `text`. Pure; used by the module and usable on
 * its own (e.g. to redact stored history before it is sent to a provider).
 */
// The live path passes the resolved config, deep-frozen and shared by every turn under the same
// settings: checking it again on each message (the schema's parse) would give the same object.
const checkedConfigs = new WeakMap<object, PiiConfig>();
const DEFAULT_CONFIG: PiiConfig = piiConfigSchema.parse({});

/** The config as the schema makes it (defaults filled in); remembered for frozen configs. */
export function checkedPiiConfig(config: Partial<PiiConfig> | undefined): PiiConfig {
  if (config === undefined) return DEFAULT_CONFIG;
  if (!Object.isFrozen(config)) return piiConfigSchema.parse(config);
  let checked = checkedConfigs.get(config);
  if (!checked) {
    checked = piiConfigSchema.parse(config);
    checkedConfigs.set(config, checked);
  }
  return checked;
}

export function redactPii(text: string, opts: { student?: StudentInfo | undefined; now: Date; config?: Partial<PiiConfig> | undefined }): PiiRedaction {
  return redactChecked(text, opts.student, opts.now, checkedPiiConfig(opts.config));
}

/** {@link redactPii} with a config already checked by {@link checkedPiiConfig}. */
export function redactChecked(text: string, student: StudentInfo | undefined, now: Date, config: PiiConfig): PiiRedaction {
  const found: PiiSpan[] = [];
  const lang = guessLanguage(text);
  if (config.kinds.email) found.push(...findEmails(text));
  if (config.kinds.phone) found.push(...findPhones(text));
  if (config.kinds.address) found.push(...findAddresses(text));
  if (config.kinds.student_id) found.push(...findStudentIds(text));
  if (config.kinds.handle) found.push(...findHandles(text, lang));
  if (config.kinds.dob) {
    found.push(
      ...findDatesOfBirth(text, {
        currentYear: now.getUTCFullYear(),
        childAgeMin: config.childAgeMin,
        childAgeMax: config.childAgeMax,
        maxAgeYears: 100,
      }),
    );
  }
  if (config.kinds.name && student) found.push(...findStudentName(text, student, lang));
  if (config.kinds.person) found.push(...findOtherPeople(text, lang));
  const spans = resolveOverlaps(trimAddresses(found, text));
  let out = "";
  let cursor = 0;
  const counts: Partial<Record<PiiKind, number>> = {};
  for (const span of spans) {
    out += text.slice(cursor, span.start) + PII_TOKENS[span.kind];
    cursor = span.end;
    counts[span.kind] = (counts[span.kind] ?? 0) + 1;
  }
  out += text.slice(cursor);
  return { text: out, spans, counts };
}
