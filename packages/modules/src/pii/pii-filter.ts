import type { ContentModule, Finding, Severity } from "../types.ts";
import { rememberedRedactor } from "./history-redactor.ts";
import { piiConfigSchema } from "./redact.ts";
import type { PiiKind } from "./types.ts";
import { PII_KINDS } from "./types.ts";

export { checkedPiiConfig, type PiiConfig, piiConfigSchema, type PiiRedaction, PII_TOKENS, redactChecked, redactPii } from "./redact.ts";

export const PII_FILTER_ID = "pii-filter";

const KIND_LABELS: Record<PiiKind, [string, string]> = {
  email: ["email address", "email addresses"],
  phone: ["phone number", "phone numbers"],
  address: ["street address or postcode", "street addresses or postcodes"],
  dob: ["date of birth", "dates of birth"],
  name: ["mention of their own name", "mentions of their own name"],
  person: ["name of someone they know", "names of people they know"],
  student_id: ["student or account number", "student or account numbers"],
  handle: ["social media or gaming username", "social media or gaming usernames"],
};

function describeCounts(counts: Partial<Record<PiiKind, number>>): string {
  return PII_KINDS.filter((k) => counts[k])
    .map((k) => {
      const n = counts[k] ?? 0;
      const [one, many] = KIND_LABELS[k];
      return `${n} ${n === 1 ? one : many}`;
    })
    .join(", ");
}

/**
 * Redacts e-mail addresses, phone numbers, social handles, street addresses/postcodes, student
 * ids, dates of birth, the student's own name and other people's names before a message reaches
 * the AI provider. The finding says which kinds and how many, never the values.
 */
export const piiFilter: ContentModule<typeof piiConfigSchema> = {
  id: PII_FILTER_ID,
  description: "Removes personal information from student messages before they reach the AI.",
  configSchema: piiConfigSchema,
  beforeGateway(ctx, text) {
    // Remembered, so this text is not scanned again when the next turn sends it as history.
    const redaction = rememberedRedactor({ student: ctx.student, now: ctx.now, config: ctx.config }).redact(text);
    if (redaction.spans.length === 0) return { action: "allow", text, findings: [] };
    // Contact and location details are worth a teacher's glance; names, ids and birthdays are routine.
    const contact = Boolean(redaction.counts.email || redaction.counts.phone || redaction.counts.address || redaction.counts.handle);
    const severity: Severity = contact ? "low" : "info";
    const finding: Finding = {
      module: PII_FILTER_ID,
      kind: "pii-redacted",
      severity,
      isAlert: false,
      message: `Removed ${describeCounts(redaction.counts)} from the student's message before it reached the AI.`,
      data: {
        counts: redaction.counts,
        kinds: Object.keys(redaction.counts),
        spans: redaction.spans.map((s) => ({ kind: s.kind, start: s.start, end: s.end })),
        storedOriginal: ctx.config.storeOriginal,
      },
    };
    return { action: "redact", text: redaction.text, findings: [finding], storeOriginal: ctx.config.storeOriginal };
  },
};
