import { type DbOrTx, messages, sessions, users } from "@raptscallions/db";
import { redactPii } from "@raptscallions/modules";
import { eq } from "drizzle-orm";
import type { NotificationDeliveryRow } from "@raptscallions/db";

const str = (v: unknown) => (typeof v === "string" ? v : "");
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const EXCERPT_CHARS = 280;

/**
 * A PII-redacted excerpt of the alert's message, for groups that opted in; never the raw text.
 * Never for a student under 13: their words do not leave the app, redacted or not, whatever the
 * group opted into (alert mails and digests both come through here; webhooks carry no text).
 */
export async function redactedExcerpt(db: DbOrTx, messageId: string | null, now: Date): Promise<string | null> {
  if (!messageId) return null;
  const [row] = await db
    .select({ content: messages.content, under13: users.under13 })
    .from(messages)
    .innerJoin(sessions, eq(sessions.id, messages.sessionId))
    .innerJoin(users, eq(users.id, sessions.studentId))
    .where(eq(messages.id, messageId));
  if (!row?.content || row.under13) return null;
  const redacted = redactPii(row.content, { now }).text;
  return redacted.length > EXCERPT_CHARS ? `${redacted.slice(0, EXCERPT_CHARS)}…` : redacted;
}

/** Where the console shows what an alert is about: its session, or the product tool run it was raised on. */
function subjectLink(publicUrl: string, p: Record<string, unknown>): [string, "session" | "run"] {
  if (!str(p.sessionId) && str(p.runId)) return [`${publicUrl}/app/runs/${str(p.runId)}`, "run"];
  return [`${publicUrl}/app/sessions/${str(p.sessionId)}`, "session"];
}

/** Subject and bodies of one email. Links point at the console; the console checks access. */
export function renderMail(
  delivery: NotificationDeliveryRow,
  opts: { publicUrl: string; excerpt: string | null; excerpts?: ReadonlyMap<string, string> },
): { subject: string; text: string; html: string } {
  const p = delivery.payload;
  if (delivery.purpose === "digest") return renderDigest(p, opts.publicUrl, opts.excerpts ?? new Map());
  const severity = str(p.severity);
  const category = str(p.category) || str(p.kind);
  const [link, what] = subjectLink(opts.publicUrl, p);
  const escalated = delivery.purpose === "escalation";
  const subject = `${escalated ? "[Escalated] " : ""}${severity.toUpperCase()} safety alert: ${category}`;
  const lines = [
    escalated ? `Nobody has acknowledged this ${severity} alert yet, so it is escalated to you (step ${delivery.step}).` : `A ${severity} safety alert was raised.`,
    "",
    `Category: ${category}`,
    `Severity: ${severity}`,
    `Summary: ${str(p.summary)}`,
    `Raised at: ${str(p.createdAt)}`,
    ...(opts.excerpt ? ["", `Excerpt (personal details removed): ${opts.excerpt}`] : []),
    "",
    `Open the ${what}: ${link}`,
    `Acknowledge it in the console (Alerts) to stop escalation.`,
  ];
  const text = lines.join("\n");
  const html = `<p>${lines.filter(Boolean).map(escapeHtml).join("<br>")}</p><p><a href="${escapeHtml(link)}">Open the ${what}</a></p>`;
  return { subject, text, html };
}

/** A teacher's daily digest: one line per finding (local time, class, severity, summary, link). */
function renderDigest(p: Record<string, unknown>, publicUrl: string, excerpts: ReadonlyMap<string, string>): { subject: string; text: string; html: string } {
  const items = Array.isArray(p.items) ? (p.items as Record<string, unknown>[]) : [];
  const total = typeof p.total === "number" ? p.total : items.length;
  const subject = `Daily summary for ${str(p.date)}: ${total} item${total === 1 ? "" : "s"} in your classes`;
  const lines = [
    `Findings in your classes that were not emailed on their own (low-severity safety findings, struggle signals), ${str(p.date)} (times in ${str(p.timeZone)}):`,
    "",
    ...items.flatMap((i) => {
      const excerpt = excerpts.get(str(i.findingId));
      return [
        `- ${str(i.localTime)} · ${str(i.className)} · ${str(i.severity)} ${str(i.kind)}: ${str(i.summary)}`,
        ...(excerpt ? [`  Excerpt (personal details removed): ${excerpt}`] : []),
        ...(str(i.sessionId) || str(i.runId) ? [`  ${subjectLink(publicUrl, i)[0]}`] : []),
      ];
    }),
    ...(total > items.length ? ["", `…and ${total - items.length} more: see Alerts in the console.`] : []),
    "",
    `Open the console: ${publicUrl}/app`,
  ];
  const text = lines.join("\n");
  return { subject, text, html: `<pre>${escapeHtml(text)}</pre>` };
}
