import type { Span } from "../text.ts";

/** Kinds of personal information the PII filter redacts. */
/**
 * `name` is the student's own name; `person` is anyone else's (classmates, family, teachers);
 * `handle` is a social-media or gaming username.
 */
export const PII_KINDS = ["email", "student_id", "handle", "phone", "address", "dob", "name", "person"] as const;
export type PiiKind = (typeof PII_KINDS)[number];

/** A detected piece of personal information: where it is, never what it says. */
export interface PiiSpan extends Span {
  kind: PiiKind;
}
