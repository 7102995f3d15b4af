import { createTransport } from "nodemailer";
import type { Logger } from "../logger.ts";

/** One rendered email, ready for a transport. */
export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Sent as `X-Rapt-Delivery`: lets a mailbox rule (or a test) match a mail to its outbox row. */
  deliveryId: string;
}

/** Sends mail: SMTP when `SMTP_URL` is set, the dev outbox otherwise. */
export interface MailTransport {
  kind: "smtp" | "dev-outbox";
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): Promise<void>;
}

/** A mail the dev outbox kept, as `GET /api/notifications/outbox` returns it. */
export interface DevOutboxMail {
  messageId: string;
  deliveryId: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  sentAt: string;
}

export interface DevOutbox extends MailTransport {
  kind: "dev-outbox";
  /** Newest first. */
  list(): DevOutboxMail[];
}

/**
 * SMTP through nodemailer (`smtp://user:pass@host:587`, `smtps://…` for implicit TLS). Time-outs
 * are short so an unreachable server fails the attempt (and it is retried) instead of holding a
 * dispatcher slot for minutes.
 */
export function createSmtpTransport(url: string, opts: { timeoutMs?: number } = {}): MailTransport {
  const timeout = opts.timeoutMs ?? 15_000;
  const transport = createTransport({ url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout });
  return {
    kind: "smtp",
    async send(mail) {
      const info = await transport.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: { "X-Rapt-Delivery": mail.deliveryId },
      });
      return { messageId: info.messageId };
    },
    async close() {
      transport.close();
    },
  };
}

/**
 * The embedded default: every mail is logged (rendered) and kept in memory, newest first, up to
 * `limit`, for `GET /api/notifications/outbox`. Nothing leaves the machine.
 */
export function createDevOutbox(logger: Logger, opts: { limit?: number; now?: () => Date } = {}): DevOutbox {
  const limit = opts.limit ?? 500;
  const now = opts.now ?? (() => new Date());
  const kept: DevOutboxMail[] = [];
  let seq = 0;
  return {
    kind: "dev-outbox",
    async send(mail) {
      const messageId = `<dev-${Date.now().toString(36)}-${++seq}@outbox.local>`;
      kept.unshift({ messageId, deliveryId: mail.deliveryId, from: mail.from, to: mail.to, subject: mail.subject, text: mail.text, sentAt: now().toISOString() });
      kept.length = Math.min(kept.length, limit);
      logger.info("dev outbox: mail kept (set SMTP_URL to send it)", { to: mail.to, subject: mail.subject, text: mail.text });
      return { messageId };
    },
    list: () => [...kept],
    async close() {},
  };
}
