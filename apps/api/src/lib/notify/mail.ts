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

/** How the SMTP transport holds its connections (see {@link createSmtpTransport}). */
export interface SmtpPoolOptions {
  /** Connections open at once to the server; more mails than that wait for a free one. */
  maxConnections?: number;
  /** A connection idle this long is closed (default 4 min: under the 5 min RFC 5321 asks servers to wait). */
  idleTimeoutMs?: number;
  /** Time-out of opening a connection and of its greeting. */
  timeoutMs?: number;
  /** A mail not accepted within this (waiting for a free connection included) fails its attempt; default 2 × `timeoutMs`. */
  sendTimeoutMs?: number;
}

/**
 * SMTP through nodemailer (`smtp://user:pass@host:587`, `smtps://…` for implicit TLS), one pool
 * of connections per transport (per SMTP URL): a mail goes over an open connection, so an alert
 * does not pay for a new connection, greeting and EHLO. Time-outs are short so an unreachable or
 * stalling server fails the attempt (and the outbox retries it) instead of holding a dispatcher
 * slot for minutes. A connection that fails mid-mail is dropped from the pool and the mail fails,
 * to be retried by the outbox like any failure; a mail whose reused connection the server had
 * closed before a byte of it was sent goes out at once over a fresh one (nodemailer's requeue).
 */
export function createSmtpTransport(url: string, opts: SmtpPoolOptions = {}): MailTransport {
  const timeout = opts.timeoutMs ?? 15_000;
  const idleTimeout = opts.idleTimeoutMs ?? 4 * 60_000;
  const sendTimeout = opts.sendTimeoutMs ?? 2 * timeout;
  const transport = createTransport({
    url,
    pool: true,
    maxConnections: opts.maxConnections ?? 5,
    idleTimeout,
    maxRequeues: 1,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    // Inactivity: longer than the idle close, so the pool (not a time-out error) ends an idle
    // connection; a stalled mail is bounded by its own deadline (the signal below).
    socketTimeout: idleTimeout + timeout,
  });
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
        signal: AbortSignal.timeout(sendTimeout),
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
