import { describe, expect, test } from "bun:test";
import { groupMembers, groups, messages, sessions, users, webhookEvents } from "@raptscallions/db";
import { makeClass, makeGroup, makeMessage, makeSession, makeTool, unique } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import {
  clerkMembershipData,
  clerkOrgData,
  clerkUserData,
  deliver,
  delivery,
  makeWebhookSecret,
  type OrgState,
  signedHeaders,
  svixId,
  type UserState,
  webhookDeps,
} from "./helpers/webhooks.ts";

const secret = makeWebhookSecret();
const h = useHarness({ deps: webhookDeps(secret, "org:teacher=teacher,org:head=admin") });
const HOUR = 3_600_000;

type Json = Record<string, unknown> & { error?: { code: string; details?: { reason?: string } } };

async function send(d: ReturnType<typeof delivery>, opts: { timestamp?: Date } = {}) {
  const res = await deliver(h.app, secret, d, opts);
  return { status: res.status, body: (await res.json()) as Json };
}

const ids = (p: string) => `${p}_${unique("w").replaceAll("-", "")}`;
const base = Date.now() - 24 * HOUR;

function user(over: Partial<UserState> = {}): UserState {
  const id = over.id ?? ids("user");
  return { id, first: "Ada", last: "Lovelace", email: `${id}@school.test`, updatedAt: base, ...over };
}
function org(over: Partial<OrgState> = {}): OrgState {
  const id = over.id ?? ids("org");
  return { id, name: `Org ${id}`, slug: `slug-${id.toLowerCase()}`, updatedAt: base, ...over };
}
const userEvent = (type: string, u: UserState, ts = u.updatedAt) => delivery(type, clerkUserData(u), ts);
const orgEvent = (type: string, o: OrgState, ts = o.updatedAt) => delivery(type, clerkOrgData(o), ts);

async function userRow(clerkUserId: string) {
  const [row] = await h.db.db.select().from(users).where(eq(users.clerkUserId, clerkUserId));
  return row;
}
async function groupRow(clerkOrgId: string) {
  const [row] = await h.db.db.select().from(groups).where(eq(groups.clerkOrgId, clerkOrgId));
  return row;
}
async function memberRow(clerkOrgId: string, clerkUserId: string) {
  const g = await groupRow(clerkOrgId);
  const u = await userRow(clerkUserId);
  if (!g || !u) return undefined;
  const [row] = await h.db.db
    .select()
    .from(groupMembers)
    .where(and(eq(groupMembers.groupId, g.id), eq(groupMembers.userId, u.id)));
  return row;
}
async function recorded(msgId: string) {
  return h.db.db.select().from(webhookEvents).where(eq(webhookEvents.svixId, msgId));
}

describe("signature verification", () => {
  async function expectRejected(headers: Record<string, string>, body: string, reason: string) {
    const res = await h.app.request("/api/webhooks/clerk", { method: "POST", headers, body });
    expect(res.status).toBe(401);
    const json = (await res.json()) as Json;
    expect(json.error?.code).toBe("UNAUTHENTICATED");
    expect(json.error?.details?.reason).toBe(reason);
  }

  test("no Svix headers → 401, nothing written", async () => {
    const u = user();
    const d = userEvent("user.created", u);
    await expectRejected({ "content-type": "application/json" }, d.body, "missing-headers");
    expect(await userRow(u.id)).toBeUndefined();
  });

  test("a signature that does not match the body → 401, nothing written", async () => {
    const u = user();
    const d = userEvent("user.created", u);
    const headers = signedHeaders(secret, d.body, { msgId: d.msgId });
    const tampered = d.body.replace("Ada", "Eve");
    await expectRejected(headers, tampered, "bad-signature");
    expect(await userRow(u.id)).toBeUndefined();
    expect(await recorded(d.msgId)).toHaveLength(0);
  });

  test("a garbage signature header → 401", async () => {
    const d = userEvent("user.created", user());
    const headers = { ...signedHeaders(secret, d.body, { msgId: d.msgId }), "svix-signature": "v1,not-base64!!" };
    await expectRejected(headers, d.body, "bad-signature");
  });

  test("a timestamp older than 5 minutes → 401, nothing written", async () => {
    const u = user();
    const d = userEvent("user.created", u);
    const headers = signedHeaders(secret, d.body, { msgId: d.msgId, timestamp: new Date(Date.now() - 6 * 60_000) });
    await expectRejected(headers, d.body, "timestamp-out-of-tolerance");
    expect(await userRow(u.id)).toBeUndefined();
  });

  test("a timestamp from the future → 401", async () => {
    const d = userEvent("user.created", user());
    const headers = signedHeaders(secret, d.body, { msgId: d.msgId, timestamp: new Date(Date.now() + 6 * 60_000) });
    await expectRejected(headers, d.body, "timestamp-out-of-tolerance");
  });

  test("signed with another secret → 401, nothing written", async () => {
    const u = user();
    const d = userEvent("user.created", u);
    await expectRejected(signedHeaders(makeWebhookSecret(), d.body, { msgId: d.msgId }), d.body, "bad-signature");
    expect(await userRow(u.id)).toBeUndefined();
    expect(await recorded(d.msgId)).toHaveLength(0);
  });

  test("a svix-id that differs from the signed one → 401", async () => {
    const d = userEvent("user.created", user());
    const headers = { ...signedHeaders(secret, d.body, { msgId: d.msgId }), "svix-id": svixId() };
    await expectRejected(headers, d.body, "bad-signature");
  });

  test("without a configured secret the endpoint is not enabled → 404", async () => {
    const { app } = await h.withApp({ deps: (base) => ({ config: { ...base.config, clerkWebhookSecret: undefined } }) });
    const res = await deliver(app, secret, userEvent("user.created", user()));
    expect(res.status).toBe(404);
    expect(((await res.json()) as Json).error?.code).toBe("NOT_FOUND");
  });

  test("a secret that is not valid base64 → 503 (our misconfiguration, Svix retries), logged", async () => {
    const { app, deps } = await h.withApp({ deps: (base) => ({ config: { ...base.config, clerkWebhookSecret: "whsec_%%%not-base64%%%" } }) });
    const res = await deliver(app, secret, userEvent("user.created", user()));
    expect(res.status).toBe(503);
    expect(((await res.json()) as Json).error?.code).toBe("SERVICE_UNAVAILABLE");
    expect(deps.logger.lines.some((l) => l.level === "error")).toBe(true);
  });

  test("a body over the global limit → 413 in the error shape", async () => {
    const u = user({ first: "x".repeat(70 * 1024) });
    const res = await deliver(h.app, secret, userEvent("user.created", u));
    expect(res.status).toBe(413);
    expect(((await res.json()) as Json).error?.code).toBe("PAYLOAD_TOO_LARGE");
    // It can never fit, so Svix is asked to stop retrying (it cannot be recorded: unverified).
    expect(res.headers.get("webhook-delivery")).toBe("abort-message");
    expect(await userRow(u.id)).toBeUndefined();
  });
});

describe("documentation", () => {
  test("the route is in the OpenAPI document with who may call it", async () => {
    const res = await h.app.request("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, { "x-access"?: string }>> };
    expect(doc.paths["/api/webhooks/clerk"]?.post?.["x-access"]).toContain("Svix signature");
  });
});

describe("payload validation: signed but never applicable → recorded as rejected, retries stopped", () => {
  async function expectRejected(d: { msgId: string; body: string; type: string }, status: number, code: string, reason: string) {
    const res = await deliver(h.app, secret, d);
    expect(res.status).toBe(status);
    expect(res.headers.get("webhook-delivery")).toBe("abort-message");
    const body = (await res.json()) as Json & { error?: { details?: { reason?: string } } };
    expect(body.error?.code).toBe(code);
    expect(body.error?.details?.reason).toBe(reason);
    const [row] = await recorded(d.msgId);
    expect(row).toMatchObject({ outcome: "rejected", reason });
    return body;
  }

  test("a signed body that is not JSON → 400 INVALID_JSON, recorded as rejected", async () => {
    await expectRejected({ msgId: svixId(), type: "?", body: "{not json" }, 400, "INVALID_JSON", "invalid-json");
  });

  test("a known type failing its schema → 422 with the issues; a redelivery answers the same and records once", async () => {
    const u = user();
    const data = clerkUserData(u) as Record<string, unknown>;
    const bad = delivery("user.created", { ...data, updated_at: "yesterday" }, u.updatedAt);
    const body = await expectRejected(bad, 422, "VALIDATION_FAILED", "invalid-payload");
    expect(JSON.stringify(body.error?.details)).toContain("updated_at");
    await expectRejected(bad, 422, "VALIDATION_FAILED", "invalid-payload");
    expect(await recorded(bad.msgId)).toHaveLength(1);
    expect(await userRow(u.id)).toBeUndefined();
  });

  test("a rejection does not block the same svix-id once its payload applies (after a schema fix)", async () => {
    const u = user();
    const data = clerkUserData(u) as Record<string, unknown>;
    const msgId = svixId();
    await expectRejected(delivery("user.created", { ...data, updated_at: "yesterday" }, u.updatedAt, msgId), 422, "VALIDATION_FAILED", "invalid-payload");
    const fixed = await send(delivery("user.created", data, u.updatedAt, msgId));
    expect(fixed.status).toBe(200);
    expect(fixed.body.outcome).toBe("applied");
    expect(await recorded(msgId)).toMatchObject([{ outcome: "applied", reason: null }]);
    expect((await userRow(u.id))?.givenName).toBe("Ada");
  });

  test("an envelope without data → 422 invalid-envelope", async () => {
    await expectRejected({ msgId: svixId(), type: "x", body: JSON.stringify({ type: "user.created" }) }, 422, "VALIDATION_FAILED", "invalid-envelope");
  });

  test("a membership without its organisation → 422, nothing written", async () => {
    const o = org();
    const u = user();
    const data = clerkMembershipData({ id: ids("orgmem"), role: "org:admin", org: o, user: u, updatedAt: base });
    const { organization: _dropped, ...rest } = data;
    await expectRejected(delivery("organizationMembership.created", rest, base), 422, "VALIDATION_FAILED", "invalid-payload");
    expect(await userRow(u.id)).toBeUndefined();
    expect(await groupRow(o.id)).toBeUndefined();
  });

  test("an updated_at from the far future → 422 impossible-timestamp (it would win every later update)", async () => {
    const u = user({ updatedAt: Date.now() + 48 * HOUR });
    await expectRejected(userEvent("user.created", u), 422, "VALIDATION_FAILED", "impossible-timestamp");
    expect(await userRow(u.id)).toBeUndefined();
  });

  test("an unknown event type → 200 ignored, recorded as such", async () => {
    const d = delivery("session.created", { id: "sess_1", object: "session" }, base);
    const { status, body } = await send(d);
    expect(status).toBe(200);
    expect(body).toEqual({ received: true, outcome: "ignored" });
    const [row] = await recorded(d.msgId);
    expect(row?.outcome).toBe("ignored");
    expect(row?.type).toBe("session.created");
  });
});

describe("users", () => {
  test("user.created mirrors the profile (primary email, names, image)", async () => {
    const u = user({ first: "Grace", last: "Hopper" });
    const { status, body } = await send(userEvent("user.created", u));
    expect(status).toBe(200);
    expect(body).toEqual({ received: true, outcome: "applied" });
    const row = await userRow(u.id);
    expect(row).toMatchObject({
      email: u.email,
      name: "Grace Hopper",
      givenName: "Grace",
      familyName: "Hopper",
      imageUrl: `https://img.clerk.test/${u.id}.png`,
      status: "active",
      deletedAt: null,
    });
    expect(row?.clerkUpdatedAt?.getTime()).toBe(u.updatedAt);
  });

  test("the same svix-id twice → applied once, the second answers duplicate", async () => {
    const u = user();
    const d = userEvent("user.created", u);
    expect((await send(d)).body.outcome).toBe("applied");
    const before = await userRow(u.id);
    const again = await send(d);
    expect(again).toEqual({ status: 200, body: { received: true, outcome: "duplicate" } });
    expect(await userRow(u.id)).toEqual(before);
    expect(await recorded(d.msgId)).toHaveLength(1);
  });

  test("reordered: an update arriving before the create still ends on the update", async () => {
    const u1 = user();
    const u2 = { ...u1, first: "Augusta", updatedAt: u1.updatedAt + 60_000 };
    expect((await send(userEvent("user.updated", u2))).body.outcome).toBe("applied");
    expect((await send(userEvent("user.created", u1))).body.outcome).toBe("stale");
    const row = await userRow(u1.id);
    expect(row?.givenName).toBe("Augusta");
    expect(row?.clerkUpdatedAt?.getTime()).toBe(u2.updatedAt);
  });

  test("an update redelivered hours late (new svix-id) loses to the newer one", async () => {
    const u1 = user();
    const u2 = { ...u1, last: "Byron", updatedAt: u1.updatedAt + HOUR };
    const u3 = { ...u1, last: "King", updatedAt: u1.updatedAt + 2 * HOUR };
    await send(userEvent("user.created", u1));
    await send(userEvent("user.updated", u3));
    expect((await send(userEvent("user.updated", u2))).body.outcome).toBe("stale");
    expect((await userRow(u1.id))?.familyName).toBe("King");
  });

  test("a banned user is suspended, unbanning makes them active", async () => {
    const u = user({ banned: true });
    await send(userEvent("user.created", u));
    expect((await userRow(u.id))?.status).toBe("suspended");
    await send(userEvent("user.updated", { ...u, banned: false, updatedAt: u.updatedAt + 1 }));
    expect((await userRow(u.id))?.status).toBe("active");
  });

  test("user.deleted anonymises, tombstones memberships, keeps learning records", async () => {
    const o = org();
    const u = user({ first: "Stu", last: "Dent" });
    await send(orgEvent("organization.created", o));
    await send(userEvent("user.created", u));
    await send(
      delivery("organizationMembership.created", clerkMembershipData({ id: ids("orgmem"), role: "basic_member", org: o, user: u, updatedAt: base + 10 }), base + 10),
    );
    const g = await groupRow(o.id);
    const before = await userRow(u.id);
    if (!g || !before) throw new Error("setup failed");
    const cls = await makeClass(h.db.db, g.id);
    const tool = await makeTool(h.db.db, g.id);
    const session = await makeSession(h.db.db, { toolId: tool.id, studentId: before.id, groupId: g.id, classId: cls.id });
    await makeMessage(h.db.db, { sessionId: session.id, seq: 1, content: "what is 2+2?" });

    const deletedAt = base + HOUR;
    const res = await send(delivery("user.deleted", { object: "user", id: u.id, deleted: true }, deletedAt));
    expect(res.body.outcome).toBe("applied");
    const row = await userRow(u.id);
    expect(row).toMatchObject({
      id: before.id,
      email: null,
      name: "Deleted user",
      givenName: null,
      familyName: null,
      imageUrl: null,
      status: "deleted",
    });
    expect(row?.deletedAt?.getTime()).toBe(deletedAt);
    expect((await memberRow(o.id, u.id))?.deletedAt?.getTime()).toBe(deletedAt);
    const [kept] = await h.db.db.select().from(sessions).where(eq(sessions.id, session.id));
    expect(kept?.studentId).toBe(before.id);
    expect(await h.db.db.select().from(messages).where(eq(messages.sessionId, session.id))).toHaveLength(1);
  });

  test("deleted, then a late update (older or newer) → no resurrection", async () => {
    const u = user();
    await send(userEvent("user.created", u));
    await send(delivery("user.deleted", { object: "user", id: u.id, deleted: true }, base + HOUR));
    expect((await send(userEvent("user.updated", { ...u, first: "Back", updatedAt: base + 30 * 60_000 }))).body.outcome).toBe("stale");
    expect((await send(userEvent("user.updated", { ...u, first: "Back", updatedAt: base + 2 * HOUR }))).body.outcome).toBe("stale");
    const row = await userRow(u.id);
    expect(row?.status).toBe("deleted");
    expect(row?.givenName).toBeNull();
  });

  test("a delete without an envelope timestamp is dated by the signature time", async () => {
    const u = user();
    await send(userEvent("user.created", u));
    const msgId = svixId();
    const body = JSON.stringify({ object: "event", type: "user.deleted", data: { object: "user", id: u.id, deleted: true } });
    const signedAt = new Date();
    await send({ msgId, type: "user.deleted", body }, { timestamp: signedAt });
    expect((await userRow(u.id))?.deletedAt?.getTime()).toBe(Math.floor(signedAt.getTime() / 1000) * 1000);
  });

  test("user.deleted before anything else leaves a tombstone the later create cannot revive", async () => {
    const u = user();
    await send(delivery("user.deleted", { object: "user", id: u.id, deleted: true }, base + HOUR));
    expect((await send(userEvent("user.created", u))).body.outcome).toBe("stale");
    expect(await userRow(u.id)).toMatchObject({ status: "deleted", email: null, name: "Deleted user" });
  });
});

describe("memberships", () => {
  const membership = (o: OrgState, u: UserState, role: string, at: number, id = ids("orgmem")) => clerkMembershipData({ id, role, org: o, user: u, updatedAt: at });

  test("roles are normalised: org:admin, admin, org:member, basic_member, mapped custom, unknown", async () => {
    const o = org();
    const cases: [string, string][] = [
      ["org:admin", "admin"],
      ["admin", "admin"],
      ["org:member", "member"],
      ["basic_member", "member"],
      ["org:teacher", "teacher"],
      ["org:head", "admin"],
      ["org:janitor", "member"],
    ];
    for (const [clerkRole, ours] of cases) {
      const u = user();
      await send(delivery("organizationMembership.created", membership(o, u, clerkRole, base), base));
      expect((await memberRow(o.id, u.id))?.role).toBe(ours as "admin");
    }
  });

  test("membership before its organisation: the group comes from the embedded organisation", async () => {
    const o = org({ name: "Springfield Elementary", kind: "school", updatedAt: base + 5 });
    const u = user();
    const res = await send(delivery("organizationMembership.created", membership(o, u, "org:admin", base + 10), base + 10));
    expect(res.body.outcome).toBe("applied");
    const g = await groupRow(o.id);
    expect(g).toMatchObject({ name: "Springfield Elementary", slug: o.slug, kind: "school", deletedAt: null });
    expect((await memberRow(o.id, u.id))?.role).toBe("admin");

    // The organisation's own (older) created event changes nothing; a newer update wins.
    expect((await send(orgEvent("organization.created", { ...o, name: "Old name", updatedAt: base }))).body.outcome).toBe("stale");
    expect((await groupRow(o.id))?.name).toBe("Springfield Elementary");
    await send(orgEvent("organization.updated", { ...o, name: "Springfield Primary", updatedAt: base + 20 }));
    expect(await groupRow(o.id)).toMatchObject({ id: g?.id, name: "Springfield Primary" });
  });

  test("membership before its user: a pending placeholder that the user event completes", async () => {
    const o = org();
    const u = user({ first: "Bart", last: "Simpson" });
    await send(delivery("organizationMembership.created", membership(o, { ...u, first: "B." }, "basic_member", base), base));
    const placeholder = await userRow(u.id);
    expect(placeholder).toMatchObject({ status: "pending", givenName: "B.", familyName: "Simpson", email: u.email });
    expect(placeholder?.clerkUpdatedAt).toBeNull();

    await send(userEvent("user.created", { ...u, updatedAt: base - HOUR }));
    const row = await userRow(u.id);
    expect(row).toMatchObject({ id: placeholder?.id, status: "active", givenName: "Bart", name: "Bart Simpson" });
    expect((await memberRow(o.id, u.id))?.deletedAt).toBeNull();
  });

  test("role change, removal, late update after removal, and re-joining", async () => {
    const o = org();
    const u = user();
    const memId = ids("orgmem");
    await send(delivery("organizationMembership.created", membership(o, u, "org:member", base, memId), base));
    const late = delivery("organizationMembership.updated", membership(o, u, "org:teacher", base + 10, memId), base + 10);
    await send(delivery("organizationMembership.updated", membership(o, u, "org:admin", base + 20, memId), base + 20));
    expect((await memberRow(o.id, u.id))?.role).toBe("admin");

    // The delete carries the membership as last updated; it is dated by the event time.
    await send(delivery("organizationMembership.deleted", membership(o, u, "org:admin", base + 20, memId), base + 30));
    expect((await memberRow(o.id, u.id))?.deletedAt?.getTime()).toBe(base + 30);
    expect((await send(late)).body.outcome).toBe("stale");
    expect((await memberRow(o.id, u.id))?.deletedAt?.getTime()).toBe(base + 30);

    const rejoin = ids("orgmem");
    await send(delivery("organizationMembership.created", membership(o, u, "basic_member", base + 40, rejoin), base + 40));
    expect(await memberRow(o.id, u.id)).toMatchObject({ role: "member", clerkMembershipId: rejoin, deletedAt: null });
  });

  test("a membership event arriving after the user was deleted stays tombstoned", async () => {
    const o = org();
    const u = user();
    await send(userEvent("user.created", u));
    await send(delivery("user.deleted", { object: "user", id: u.id, deleted: true }, base + HOUR));
    await send(delivery("organizationMembership.created", membership(o, u, "org:admin", base + 10), base + 10));
    expect((await memberRow(o.id, u.id))?.deletedAt?.getTime()).toBe(base + HOUR);
  });
});

describe("organisations", () => {
  test("organization.deleted tombstones the group and keeps its classes; late updates do not revive it", async () => {
    const o = org();
    await send(orgEvent("organization.created", o));
    const g = await groupRow(o.id);
    if (!g) throw new Error("setup failed");
    const cls = await makeClass(h.db.db, g.id);
    await send(delivery("organization.deleted", { object: "organization", id: o.id, slug: o.slug, deleted: true }, base + HOUR));
    expect((await groupRow(o.id))?.deletedAt?.getTime()).toBe(base + HOUR);
    await send(orgEvent("organization.updated", { ...o, name: "Renamed", updatedAt: base + 10 }));
    const after = await groupRow(o.id);
    expect(after?.deletedAt?.getTime()).toBe(base + HOUR);
    expect(after?.id).toBe(g.id);
    expect(cls.groupId).toBe(g.id);
  });

  test("organization.deleted first leaves a tombstone; the late create fills it in but it stays deleted", async () => {
    const o = org({ name: "Shelbyville" });
    await send(delivery("organization.deleted", { object: "organization", id: o.id, deleted: true }, base + HOUR));
    expect((await groupRow(o.id))?.deletedAt?.getTime()).toBe(base + HOUR);
    expect((await send(orgEvent("organization.created", o))).body.outcome).toBe("applied");
    // The slug stays released (webhooks-deleted-orgs.test.ts).
    expect(await groupRow(o.id)).toMatchObject({ name: "Shelbyville", slug: `deleted~${o.id}`, clerkSlug: o.slug });
    expect((await groupRow(o.id))?.deletedAt?.getTime()).toBe(base + HOUR);
  });

  test("a slug held by another group gets a deterministic suffix, never a 500", async () => {
    const taken = `taken-${unique("s")}`;
    await makeGroup(h.db.db, { slug: taken });
    const o = org({ slug: taken });
    const { status } = await send(orgEvent("organization.created", o));
    expect(status).toBe(200);
    const tag = o.id.replace(/^org_/, "").slice(-8).toLowerCase();
    expect((await groupRow(o.id))?.slug).toBe(`${taken}-${tag}`);
    // Another organisation asking for the same slug gets its own suffix.
    const o2 = org({ slug: taken });
    await send(orgEvent("organization.created", o2));
    expect((await groupRow(o2.id))?.slug).toBe(`${taken}-${o2.id.replace(/^org_/, "").slice(-8).toLowerCase()}`);
  });

  test("an organisation without a slug gets one from its id", async () => {
    const o = org({ slug: null });
    await send(orgEvent("organization.created", o));
    expect((await groupRow(o.id))?.slug).toStartWith("org-");
  });
});
