import type { Span } from "../text.ts";

/** Kinds of personal information the PII filter redacts. */
export const PII_KINDS = ["email", "phone", "address", "dob", "name"] as const;
export type PiiKind = (typeof PII_KINDS)[number];

/** A detected piece of personal information: where it is, never what it says. */
export interface PiiSpan extends Span {
  kind: PiiKind;
}
