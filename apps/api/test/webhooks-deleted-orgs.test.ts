import { describe, expect, test } from "bun:test";
import { groupMembers, groups, users } from "@raptscallions/db";
import { makeGroup, unique } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { clerkMembershipData, clerkOrgData, type Delivery, deliver, delivery, makeWebhookSecret, type OrgState, webhookDeps } from "./helpers/webhooks.ts";

const secret = makeWebhookSecret();
const h = useHarness({ deps: webhookDeps(secret) });
const HOUR = 3_600_000;
const base = Date.now() - 24 * HOUR;

const ids = (p: string) => `${p}_${unique("d").replaceAll("-", "")}`;

/** Every ordering of `items`. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

async function deliverAll(list: Delivery[]) {
  for (const d of list) {
    const res = await deliver(h.app, secret, d);
    if (res.status !== 200) throw new Error(`${d.type} → ${res.status} ${await res.text()}`);
  }
}
async function group(clerkOrgId: string) {
  const [row] = await h.db.db.select().from(groups).where(eq(groups.clerkOrgId, clerkOrgId));
  return row;
}
async function membership(clerkOrgId: string, clerkUserId: string) {
  const [row] = await h.db.db
    .select({ deletedAt: groupMembers.deletedAt, role: groupMembers.role })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(and(eq(groups.clerkOrgId, clerkOrgId), eq(users.clerkUserId, clerkUserId)));
  return row;
}
const orgDeleted = (o: OrgState, at: number) => delivery("organization.deleted", { object: "organization", id: o.id, slug: o.slug, deleted: true }, at);
const member = (o: OrgState, userId: string, at: number, type = "organizationMembership.created") =>
  delivery(
    type,
    clerkMembershipData({ id: ids("orgmem"), role: "org:member", org: o, user: { id: userId, first: "M", last: "M", email: `${userId}@x.test` }, updatedAt: at }),
    at,
  );

describe("a deleted organisation's memberships are tombstoned", () => {
  test("live ones with the deletion date; one removed earlier keeps its own date", async () => {
    const o: OrgState = { id: ids("org"), name: "Closing", slug: ids("closing").toLowerCase(), updatedAt: base };
    const [stay, left] = [ids("user"), ids("user")];
    await deliverAll([
      delivery("organization.created", clerkOrgData(o), base),
      member(o, stay, base + 1000),
      member(o, left, base + 2000),
      member(o, left, base + 2000, "organizationMembership.deleted"),
    ]);
    const leftAt = (await membership(o.id, left))?.deletedAt;
    expect(leftAt).not.toBeNull();
    await deliverAll([orgDeleted(o, base + HOUR)]);
    expect((await membership(o.id, stay))?.deletedAt?.getTime()).toBe(base + HOUR);
    expect((await membership(o.id, left))?.deletedAt).toEqual(leftAt ?? null);
  });

  test("in every arrival order of create, join, update and delete, the membership ends tombstoned at the deletion", async () => {
    for (const [n, order] of permutations(["create", "join", "update", "delete"] as const).entries()) {
      const o: OrgState = { id: ids(`org${n}`), name: "Org", slug: ids("perm").toLowerCase(), updatedAt: base };
      const u = ids("user");
      const events = {
        create: delivery("organization.created", clerkOrgData(o), base),
        join: member(o, u, base + 1000),
        update: member(o, u, base + 2000, "organizationMembership.updated"),
        delete: orgDeleted(o, base + HOUR),
      };
      await deliverAll(order.map((k) => events[k]));
      const row = await membership(o.id, u);
      expect({ order, deletedAt: row?.deletedAt?.getTime() }).toEqual({ order, deletedAt: base + HOUR });
    }
  });
});

describe("a deleted organisation releases its slug", () => {
  test("the live organisation with the same Clerk slug gets it plain in every arrival order", async () => {
    for (const [n, order] of permutations(["createOld", "deleteOld", "createNew"] as const).entries()) {
      const slug = `reused-${unique("s").toLowerCase()}`;
      const old: OrgState = { id: ids(`org_old${n}`), name: "Old", slug, updatedAt: base };
      const fresh: OrgState = { id: ids(`org_new${n}`), name: "New", slug, updatedAt: base + 2 * HOUR };
      const events = {
        createOld: delivery("organization.created", clerkOrgData(old), base),
        deleteOld: orgDeleted(old, base + HOUR),
        createNew: delivery("organization.created", clerkOrgData(fresh), base + 2 * HOUR),
      };
      await deliverAll(order.map((k) => events[k]));
      const [oldRow, newRow] = [await group(old.id), await group(fresh.id)];
      expect({ order, slug: newRow?.slug }).toEqual({ order, slug });
      expect({ order, slug: oldRow?.slug, deleted: oldRow?.deletedAt !== null }).toEqual({ order, slug: `deleted~${old.id}`, deleted: true });
    }
  });

  test("a rename frees the old slug for the organisation that asked for it", async () => {
    const slug = `renamed-${unique("s").toLowerCase()}`;
    const a: OrgState = { id: ids("org_a"), name: "A", slug, updatedAt: base };
    const b: OrgState = { id: ids("org_b"), name: "B", slug, updatedAt: base + 1000 };
    await deliverAll([delivery("organization.created", clerkOrgData(a), base), delivery("organization.created", clerkOrgData(b), base + 1000)]);
    expect((await group(b.id))?.slug).not.toBe(slug);
    await deliverAll([delivery("organization.updated", clerkOrgData({ ...a, slug: `${slug}-new`, updatedAt: base + 2000 }), base + 2000)]);
    expect((await group(a.id))?.slug).toBe(`${slug}-new`);
    expect((await group(b.id))?.slug).toBe(slug);
  });

  test("a group deleted before slugs were released gives its slug up on its next snapshot", async () => {
    const slug = `legacy-${unique("s").toLowerCase()}`;
    const legacy: OrgState = { id: ids("org_legacy"), name: "Legacy", slug, updatedAt: base };
    await makeGroup(h.db.db, { clerkOrgId: legacy.id, slug, clerkUpdatedAt: new Date(base), deletedAt: new Date(base + HOUR) });
    const live: OrgState = { id: ids("org_live"), name: "Live", slug, updatedAt: base + 2 * HOUR };
    await deliverAll([delivery("organization.created", clerkOrgData(live), base + 2 * HOUR)]);
    expect((await group(live.id))?.slug).not.toBe(slug);
    await deliverAll([delivery("organization.updated", clerkOrgData({ ...legacy, updatedAt: base + 1000 }), base + 1000)]);
    expect((await group(legacy.id))?.slug).toBe(`deleted~${legacy.id}`);
    expect((await group(live.id))?.slug).toBe(slug);
  });

  test("a Clerk slug cannot imitate a released one", async () => {
    const victim: OrgState = { id: ids("org_v"), name: "V", slug: ids("v").toLowerCase(), updatedAt: base };
    await deliverAll([delivery("organization.created", clerkOrgData(victim), base)]);
    const impostor: OrgState = { id: ids("org_i"), name: "I", slug: `deleted~${victim.id}`, updatedAt: base };
    await deliverAll([delivery("organization.created", clerkOrgData(impostor), base), orgDeleted(victim, base + HOUR)]);
    expect((await group(victim.id))?.slug).toBe(`deleted~${victim.id}`);
    expect((await group(impostor.id))?.slug).toBe(`deleted-${victim.id}`);
  });
});
