import { describe, expect, test } from "bun:test";
import { groups, users, webhookEvents } from "@raptscallions/db";
import { addGroupMember, makeGroup, makeUser, unique } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { clerkMembershipData, clerkOrgData, clerkUserData, type Delivery, deliver, delivery, makeWebhookSecret, svixId, webhookDeps } from "./helpers/webhooks.ts";

/**
 * Hostile but correctly signed deliveries: NUL bytes, lone surrogates, 50,000-level nesting,
 * impossible timestamps and numbers, oversize strings, in every field of every synced type.
 * None may answer 5xx: each is applied (with NULs removed and surrogates replaced in display
 * text) or recorded as rejected and answered 4xx with `webhook-delivery: abort-message`.
 */

const secret = makeWebhookSecret();
// Production's default body limit, so 50,000 levels of nesting reach the receiver.
const h = useHarness({ deps: webhookDeps(secret, undefined, { bodyLimitBytes: 1024 * 1024 }) });
const now = Date.now();

const id = (p: string) => `${p}_${unique("h").replaceAll("-", "")}`;
const KB4 = "x".repeat(4096);
const DEEP = 50_000;
const deepArray = () => JSON.parse(`${"[".repeat(50)}${"]".repeat(50)}`) as unknown;
/** A body whose `data` (or whole envelope) nests DEEP levels, written out as text: JSON.stringify would recurse. */
const deepText = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;

function templates() {
  const u = id("user");
  const o = id("org");
  const orgState = { id: o, name: "Hostile Org", slug: `slug-${o.toLowerCase()}`, parent: id("org"), updatedAt: now - 60_000 };
  return [
    { type: "user.created", data: clerkUserData({ id: u, first: "Ann", last: "Other", email: `${u}@x.test`, updatedAt: now - 60_000 }) },
    { type: "organization.created", data: clerkOrgData(orgState) },
    {
      type: "organizationMembership.created",
      data: clerkMembershipData({
        id: id("orgmem"),
        role: "org:admin",
        org: orgState,
        user: { id: u, first: "Ann", last: "Other", email: `${u}@x.test` },
        updatedAt: now - 60_000,
      }),
    },
    { type: "user.deleted", data: { object: "user", id: u, deleted: true } },
    { type: "organization.deleted", data: { object: "organization", id: o, slug: "gone", deleted: true } },
    { type: "session.created", data: { object: "session", id: id("sess") } },
  ];
}

type Leaf = { path: (string | number)[]; value: unknown };
function leaves(v: unknown, path: (string | number)[] = []): Leaf[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...path, i]));
  if (v && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [{ path, value: v }];
}
function replaced(root: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) cur = cur[key] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (last !== undefined) cur[last] = value;
  return copy;
}

const hostileStrings = (s: string) => [`${s}\u0000`, `\u0000`, `${s}\ud800`, "\udc00", `${s}${KB4}`, `${KB4}@x.test`];
const hostileNumbers = [8_640_000_000_000_000, 253_402_300_800_000, now + 365 * 86_400_000, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2];

/** Every hostile variant: each leaf of each template replaced, plus envelope, nesting and raw-body cases. */
function hostileDeliveries(): (Delivery & { label: string })[] {
  const out: (Delivery & { label: string })[] = [];
  for (const t of templates()) {
    for (const leaf of leaves(t.data)) {
      const values = typeof leaf.value === "string" ? hostileStrings(leaf.value) : typeof leaf.value === "number" ? hostileNumbers : [`\u0000`, KB4];
      for (const value of values) {
        out.push({ ...delivery(t.type, replaced(t.data, leaf.path, value), now - 1000), label: `${t.type} ${leaf.path.join(".")}` });
      }
    }
    for (const ts of hostileNumbers) out.push({ ...delivery(t.type, t.data, ts), label: `${t.type} envelope timestamp ${ts}` });
    for (const type of [`${t.type}\u0000`, `${t.type}\ud800`, KB4]) out.push({ ...delivery(type, t.data, now), label: `type ${type.slice(0, 20)}` });
    const metaDeep = { ...t.data, public_metadata: { nested: deepArray() } };
    out.push({ ...delivery(t.type, metaDeep, now), label: `${t.type} nested metadata` });
    const body = JSON.stringify({ object: "event", type: t.type, timestamp: now, data: "__DATA__" });
    out.push({ msgId: svixId(), type: t.type, body: body.replace('"__DATA__"', deepText(DEEP)), label: `${t.type} data nested ${DEEP} deep` });
    out.push({ msgId: svixId(), type: t.type, body: `[${body}]`, label: `${t.type} envelope in an array` });
  }
  out.push({ msgId: svixId(), type: "?", body: `${"[".repeat(DEEP)}${"]".repeat(DEEP)}`, label: `array nested ${DEEP} deep` });
  out.push({ msgId: svixId(), type: "?", body: deepText(DEEP), label: `object nested ${DEEP} deep` });
  out.push({ msgId: svixId(), type: "?", body: '{"type":"user.created","data":{"id":"\\ud800"}}', label: "escaped lone surrogate id" });
  out.push({ msgId: svixId(), type: "?", body: "null", label: "null" });
  out.push({ msgId: svixId(), type: "?", body: "", label: "empty body" });
  return out;
}

describe("a sweep of hostile signed deliveries", () => {
  test("answers 0 × 5xx: applied, or rejected with 4xx + abort-message and recorded", async () => {
    const list = hostileDeliveries();
    expect(list.length).toBeGreaterThan(300);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    // A few at a time, as Svix delivers.
    for (let i = 0; i < list.length; i += 8) {
      await Promise.all(
        list.slice(i, i + 8).map(async (d) => {
          const res = await deliver(h.app, secret, d);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const body = (await res.json()) as { outcome?: string; error?: { code: string; details?: { reason?: string } } };
          if (res.status >= 500) failures.push(`${d.label} → ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
          else if (res.status !== 200) {
            const [row] = await h.db.db.select().from(webhookEvents).where(eq(webhookEvents.svixId, d.msgId));
            if (res.headers.get("webhook-delivery") !== "abort-message" || row?.outcome !== "rejected" || !row.reason) {
              failures.push(`${d.label} → ${res.status} without abort-message or rejected record`);
            }
          }
        }),
      );
    }
    expect(failures).toEqual([]);
    // The sweep exercised both answers.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(0);
  }, 300_000);
});

describe("the cases named in the issue", () => {
  async function send(type: string, data: unknown, timestamp = now - 1000) {
    const d = delivery(type, data, timestamp);
    const res = await deliver(h.app, secret, d);
    const body = (await res.json()) as { outcome?: string; error?: { code: string; details?: { reason?: string } } };
    return { d, status: res.status, body, abort: res.headers.get("webhook-delivery") };
  }

  test("a NUL in an email → 422 rejected (not an address), nothing written", async () => {
    const u = id("user");
    const r = await send("user.created", clerkUserData({ id: u, first: "A", last: "B", email: `a\u0000b@x.test`, updatedAt: now - 1000 }));
    expect([r.status, r.body.error?.details?.reason, r.abort]).toEqual([422, "invalid-payload", "abort-message"]);
    expect(await h.db.db.select().from(users).where(eq(users.clerkUserId, u))).toHaveLength(0);
  });

  test("a NUL in an organisation's name is removed and the organisation applies", async () => {
    const o = id("org");
    const r = await send("organization.created", clerkOrgData({ id: o, name: "Nul\u0000Org", slug: `s-${o.toLowerCase()}`, updatedAt: now - 1000 }));
    expect(r.body.outcome).toBe("applied");
    const [g] = await h.db.db.select().from(groups).where(eq(groups.clerkOrgId, o));
    expect(g?.name).toBe("NulOrg");
  });

  test("a lone surrogate in a name becomes U+FFFD and the user applies", async () => {
    const u = id("user");
    const r = await send("user.created", clerkUserData({ id: u, first: "Sur\ud800", last: "B", email: `${u}@x.test`, updatedAt: now - 1000 }));
    expect(r.body.outcome).toBe("applied");
    const [row] = await h.db.db.select().from(users).where(eq(users.clerkUserId, u));
    expect(row?.givenName).toBe("Sur\ufffd");
  });

  test("updated_at at the old schema maximum (year 275760) → 422 impossible timestamp", async () => {
    const u = id("user");
    const r = await send("user.updated", clerkUserData({ id: u, first: "A", last: "B", email: `${u}@x.test`, updatedAt: 8_640_000_000_000_000 }));
    expect([r.status, r.body.error?.details?.reason]).toEqual([422, "invalid-payload"]);
    const late = await send("user.updated", clerkUserData({ id: u, first: "A", last: "B", email: `${u}@x.test`, updatedAt: 253_402_300_799_999 }));
    expect([late.status, late.body.error?.details?.reason]).toEqual([422, "impossible-timestamp"]);
  });

  test("an envelope timestamp in year 10000 → 422 rejected", async () => {
    const r = await send("user.deleted", { object: "user", id: id("user"), deleted: true }, 253_402_300_800_000);
    expect([r.status, r.body.error?.details?.reason, r.abort]).toEqual([422, "invalid-envelope", "abort-message"]);
  });

  test("a 4 KB email (beyond the email index's row limit) → 422 rejected, nothing written", async () => {
    const u = id("user");
    const r = await send("user.created", clerkUserData({ id: u, first: "A", last: "B", email: `${KB4}@x.test`, updatedAt: now - 1000 }));
    expect([r.status, r.body.error?.details?.reason]).toEqual([422, "invalid-payload"]);
    expect(await h.db.db.select().from(users).where(eq(users.clerkUserId, u))).toHaveLength(0);
  });

  test("50,000 levels of nesting → 422 too-deeply-nested, the process survives", async () => {
    const d = { msgId: svixId(), type: "?", body: `${"[".repeat(DEEP)}${"]".repeat(DEEP)}` };
    const res = await deliver(h.app, secret, d);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe("too-deeply-nested");
  });
});

describe("rejections are visible to admins", () => {
  test("GET /api/audit lists each rejection once for system admins (with its reason), not for group admins", async () => {
    const sysAdmin = await makeUser(h.db.db, { isSystemAdmin: true });
    const groupAdmin = await makeUser(h.db.db);
    await addGroupMember(h.db.db, (await makeGroup(h.db.db)).id, groupAdmin.id, "admin");
    const u = id("user");
    const d = delivery("user.created", clerkUserData({ id: u, first: "A", last: "B", email: `${KB4}@x.test`, updatedAt: now - 1000 }), now);
    expect((await deliver(h.app, secret, d)).status).toBe(422);
    expect((await deliver(h.app, secret, d)).status).toBe(422);
    const path = `/api/audit?action=webhook.clerk.reject&targetType=webhook_delivery&targetId=${d.msgId}`;
    const seen = await h.as(sysAdmin).get<{ items: { targetId: string; actorId: string | null; details: { reason: string; type: string } }[] }>(path);
    expect(seen.status).toBe(200);
    expect(seen.body.items).toHaveLength(1);
    expect(seen.body.items[0]).toMatchObject({ targetId: d.msgId, actorId: null, details: { reason: "invalid-payload", type: "user.created" } });
    const hidden = await h.as(groupAdmin).get<{ items: unknown[] }>(path);
    expect(hidden.status).toBe(200);
    expect(hidden.body.items).toHaveLength(0);
  });
});
