import { classMembers, type DbOrTx, users } from "@raptscallions/db";
import { and, eq, inArray, isNotNull, isNull } from "drizzle-orm";
import type { Audience, NotificationConfig } from "../groups/notification-config.ts";

/** One person (or list address) a notification goes to. */
export interface EmailRecipient {
  email: string;
  userId: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Addresses for some audiences of one alert: the class's teachers, the safety config's escalation
 * list (user ids, carried by the alert), the safeguarding list. Users without an address or no
 * longer active are skipped; an address named twice is mailed once.
 */
export async function resolveAudiences(
  db: DbOrTx,
  input: { audiences: readonly Audience[]; classId: string | null; escalateTo: readonly string[]; config: NotificationConfig },
): Promise<EmailRecipient[]> {
  const found: EmailRecipient[] = [];
  const live = and(isNotNull(users.email), eq(users.status, "active"), isNull(users.deletedAt));
  if (input.audiences.includes("teachers") && input.classId) {
    const rows = await db
      .select({ email: users.email, userId: users.id })
      .from(classMembers)
      .innerJoin(users, eq(users.id, classMembers.userId))
      .where(and(eq(classMembers.classId, input.classId), eq(classMembers.role, "teacher"), live));
    for (const r of rows) if (r.email) found.push({ email: r.email, userId: r.userId });
  }
  const ids = input.escalateTo.filter((id) => UUID.test(id));
  if (input.audiences.includes("escalation") && ids.length > 0) {
    const rows = await db
      .select({ email: users.email, userId: users.id })
      .from(users)
      .where(and(inArray(users.id, ids), live));
    for (const r of rows) if (r.email) found.push({ email: r.email, userId: r.userId });
  }
  if (input.audiences.includes("safeguarding")) {
    for (const email of input.config.safeguardingList) found.push({ email, userId: null });
  }
  const seen = new Set<string>();
  return found.filter((r) => {
    const key = r.email.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
