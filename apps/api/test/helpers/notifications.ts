import { type DbOrTx, groups } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import type { Finding } from "@raptscallions/modules";
import { eq } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { Webhook } from "svix";

/** A mail as the test SMTP server received it: the SMTP envelope and the parsed message. */
export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  subject: string;
  text: string;
  deliveryId: string;
  /** Epoch ms (fractional): when the SMTP connection carrying the mail opened, its `MAIL FROM`, and acceptance. */
  connectedAt: number;
  mailFromAt: number;
  acceptedAt: number;
}

const epochMs = () => performance.timeOrigin + performance.now();

export interface TestSmtpServer {
  url: string;
  received: ReceivedMail[];
  /** Connections opened so far, and how many are open now (a pooled client keeps them). */
  connections(): { opened: number; open: number };
  /** Ends every open connection, as a server restarting (or timing out idle clients) does. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server on a free port, keeping what it accepts. Closing it ends the connections a
 * pooled client still holds (after 100 ms, with a 421), instead of waiting for the client.
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  // Per SMTP session: when it connected and when its current transaction began.
  const stamps = new Map<string, { connectedAt: number; mailFromAt: number }>();
  let opened = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    closeTimeout: 100,
    onConnect(session, callback) {
      opened++;
      stamps.set(session.id, { connectedAt: epochMs(), mailFromAt: 0 });
      callback();
    },
    onClose(session) {
      stamps.delete(session.id);
    },
    onMailFrom(_address, session, callback) {
      const s = stamps.get(session.id);
      if (s) s.mailFromAt = epochMs();
      callback();
    },
    onData(stream, session, callback) {
      const s = stamps.get(session.id);
      simpleParser(stream)
        .then((parsed) => {
          const header = parsed.headers.get("x-rapt-delivery");
          received.push({
            connectedAt: s?.connectedAt ?? 0,
            mailFromAt: s?.mailFromAt ?? 0,
            acceptedAt: epochMs(),
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? "",
            text: parsed.text ?? "",
            deliveryId: typeof header === "string" ? header : "",
          });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    connections: () => ({ opened, open: server.connections.size }),
    dropConnections() {
      for (const connection of server.connections) connection.close();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ReceivedWebhook {
  id: string;
  payload: { type: string; timestamp?: string; data: Record<string, unknown> };
  /** Epoch ms (fractional) when it was verified, just before the 204. */
  receivedAt: number;
}

/**
 * A school's webhook endpoint on a free port: verifies each delivery with the `svix` library and
 * keeps the verified ones. `mode` makes it misbehave: answer 500, redirect to itself, or hang.
 */
export function startWebhookEndpoint(secret: string) {
  const received: ReceivedWebhook[] = [];
  const rejected: string[] = [];
  let mode: "ok" | "fail" | "redirect" | "hang" = "ok";
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      if (mode === "redirect") return new Response(null, { status: 302, headers: { location: url.toString() } });
      if (mode === "fail") return new Response("boom", { status: 500 });
      if (mode === "hang") await new Promise((r) => setTimeout(r, 2_000));
      const body = await req.text();
      try {
        // Throws unless the signature and timestamp check out; the body is only trusted after.
        new Webhook(secret).verify(body, Object.fromEntries(req.headers));
        const payload = JSON.parse(body) as ReceivedWebhook["payload"];
        received.push({ id: req.headers.get("webhook-id") ?? "", payload, receivedAt: epochMs() });
        return new Response(null, { status: 204 });
      } catch (err) {
        rejected.push(err instanceof Error ? err.message : String(err));
        return new Response("bad signature", { status: 400 });
      }
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hooks/rapt`,
    received,
    rejected,
    setMode(m: typeof mode) {
      mode = m;
    },
    close: () => server.stop(true),
  };
}

/**
 * A critical self-harm alert of the safety filter on a student's message, blocked and escalated;
 * `over` replaces fields (its `data` replaces the whole of `data`).
 */
export function crisisFinding(over: Partial<Finding> = {}): Finding {
  return {
    module: "safety-filter",
    kind: "self-harm",
    severity: "critical",
    isAlert: true,
    message: "Possible self-harm (critical) in a student message.",
    data: { category: "self-harm", source: "student", rules: ["r1"], blocked: true, escalate: true, escalateTo: [] },
    ...over,
  };
}

/** Sets a group's notification settings, replacing its settings (a district's are its schools' too). */
export async function setNotifications(db: DbOrTx, groupId: string, notifications: Record<string, unknown>): Promise<void> {
  await db.update(groups).set({ settings: { notifications } }).where(eq(groups.id, groupId));
}

/** A school scene whose district has `notifications`, and a session of its student in its class. */
export async function notificationScene(db: DbOrTx, notifications: Record<string, unknown>): Promise<{ scene: SchoolScene; sessionId: string }> {
  const scene = await makeSchoolScene(db);
  await setNotifications(db, scene.district.id, notifications);
  const session = await makeSession(db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
  return { scene, sessionId: session.id };
}
