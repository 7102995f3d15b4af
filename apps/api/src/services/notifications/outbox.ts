import { type DevOutboxDto, ForbiddenError, NotFoundError } from "@raptscallions/core";
import type { ServiceContext } from "../context.ts";
import type { MailTransport } from "../../lib/notify/mail.ts";

/**
 * The mails the embedded dev outbox kept (no SMTP_URL), newest first: system admins only, and
 * only when mail is not really sent (with SMTP there is nothing to read: a 404).
 */
export function readDevOutbox({ ctx, mail }: { ctx: ServiceContext; mail: MailTransport | undefined }): DevOutboxDto {
  if (!ctx.actor.isSystemAdmin) throw new ForbiddenError("Only system admins may read the dev outbox");
  if (mail?.kind !== "dev-outbox" || !("list" in mail) || typeof mail.list !== "function") throw new NotFoundError("Dev outbox (mail is sent over SMTP)");
  return { items: mail.list() };
}
