import { describe, expect, test } from "bun:test";
import { groups, idsFromPath } from "@raptscallions/db";
import { makeGroup, unique } from "@raptscallions/db/testing";
import { eq, sql } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { clerkOrgData, deliver, delivery, makeWebhookSecret, type OrgState, webhookDeps } from "./helpers/webhooks.ts";

const secret = makeWebhookSecret();
const h = useHarness({ deps: webhookDeps(secret) });
const base = Date.now() - 86_400_000;

const ids = (p: string) => `${p}_${unique("t").replaceAll("-", "")}`;
function org(over: Partial<OrgState> = {}): OrgState {
  const id = over.id ?? ids("org");
  return { id, name: `Org ${id}`, slug: `slug-${id.toLowerCase()}`, updatedAt: base, ...over };
}
async function send(type: string, o: OrgState) {
  const res = await deliver(h.app, secret, delivery(type, clerkOrgData(o), o.updatedAt));
  expect(res.status).toBe(200);
}
async function group(clerkOrgId: string) {
  const [row] = await h.db.db.select().from(groups).where(eq(groups.clerkOrgId, clerkOrgId));
  if (!row) throw new Error(`no group for ${clerkOrgId}`);
  return row;
}
/** The Clerk org ids from the root down to the group, read from its ltree path. */
async function chain(clerkOrgId: string) {
  const g = await group(clerkOrgId);
  const out: string[] = [];
  for (const id of idsFromPath(g.path)) {
    const [row] = await h.db.db.select({ clerkOrgId: groups.clerkOrgId, slug: groups.slug }).from(groups).where(eq(groups.id, id));
    out.push(row?.clerkOrgId ?? `local:${row?.slug}`);
  }
  return out;
}
/** Every group's path must be its parent's path plus its own label. */
async function assertPathsConsistent(clerkOrgIds: string[]) {
  for (const id of clerkOrgIds) {
    const g = await group(id);
    if (g.parentId) {
      const [p] = await h.db.db.select().from(groups).where(eq(groups.id, g.parentId));
      expect(g.path).toBe(`${p?.path}.${g.id.replaceAll("-", "_")}`);
    } else {
      expect(g.path).toBe(g.id.replaceAll("-", "_"));
    }
  }
}

describe("organisation hierarchy", () => {
  test("an organisation naming a known parent is created under it", async () => {
    const district = org({ kind: "district" });
    const school = org({ parent: district.id, kind: "school" });
    await send("organization.created", district);
    await send("organization.created", school);
    expect(await chain(school.id)).toEqual([district.id, school.id]);
    expect((await group(school.id)).kind).toBe("school");
  });

  test("the alias key parentClerkOrgId works too", async () => {
    const parent = org();
    const child = org({ parent: parent.id, parentKey: "parentClerkOrgId" });
    await send("organization.created", parent);
    await send("organization.created", child);
    expect((await group(child.id)).parentId).toBe((await group(parent.id)).id);
  });

  test("parent arriving late: the child waits as a root and moves with its whole subtree", async () => {
    const district = org();
    const school = org({ parent: district.id });
    const dept = org({ parent: school.id });
    await send("organization.created", dept);
    await send("organization.created", school);
    // A local (non-Clerk) group created under the school while the district is unknown.
    const schoolRow = await group(school.id);
    const local = await makeGroup(h.db.db, { parent: schoolRow });
    expect(schoolRow.parentId).toBeNull();
    expect(await chain(dept.id)).toEqual([school.id, dept.id]);

    await send("organization.created", district);
    expect(await chain(dept.id)).toEqual([district.id, school.id, dept.id]);
    const [movedLocal] = await h.db.db.select().from(groups).where(eq(groups.id, local.id));
    expect(movedLocal?.path).toBe(`${(await group(school.id)).path}.${local.id.replaceAll("-", "_")}`);
    await assertPathsConsistent([district.id, school.id, dept.id]);
    // The subtree query the access policy relies on sees the whole tree.
    const under = await h.db.db
      .select({ id: groups.id })
      .from(groups)
      .where(sql`${groups.path} <@ ${(await group(district.id)).path}::ltree`);
    expect(under).toHaveLength(4);
  });

  test("re-parenting by a metadata update moves the subtree", async () => {
    const a = org();
    const b = org();
    const child = org({ parent: a.id });
    const grandchild = org({ parent: child.id });
    for (const o of [a, b, child, grandchild]) await send("organization.created", o);
    expect(await chain(grandchild.id)).toEqual([a.id, child.id, grandchild.id]);
    await send("organization.updated", { ...child, parent: b.id, updatedAt: base + 10 });
    expect(await chain(grandchild.id)).toEqual([b.id, child.id, grandchild.id]);
    // Removing the parent makes it a root again.
    await send("organization.updated", { ...child, parent: null, updatedAt: base + 20 });
    expect(await chain(grandchild.id)).toEqual([child.id, grandchild.id]);
    // An older update that named a parent loses.
    await send("organization.updated", { ...child, parent: a.id, updatedAt: base + 15 });
    expect((await group(child.id)).parentId).toBeNull();
    await assertPathsConsistent([a.id, b.id, child.id, grandchild.id]);
  });

  test("a cycle of wanted parents leaves every organisation on it a root, in either arrival order", async () => {
    for (const order of [0, 1]) {
      const x = org();
      const y = org();
      const xWants = { ...x, parent: y.id };
      const yWants = { ...y, parent: x.id };
      const events = order === 0 ? [xWants, yWants] : [yWants, xWants];
      for (const e of events) await send("organization.created", e);
      expect((await group(x.id)).parentId).toBeNull();
      expect((await group(y.id)).parentId).toBeNull();

      // Breaking the cycle attaches the other side.
      await send("organization.updated", { ...y, parent: null, updatedAt: base + 10 });
      expect(await chain(x.id)).toEqual([y.id, x.id]);
      await assertPathsConsistent([x.id, y.id]);
    }
  });

  test("a self-parent is ignored, and a longer cycle fed by a tail keeps the tail attached", async () => {
    const self = org();
    await send("organization.created", { ...self, parent: self.id });
    expect((await group(self.id)).parentId).toBeNull();

    const [p, q, r, tail] = [org(), org(), org(), org()];
    await send("organization.created", { ...tail, parent: p.id });
    await send("organization.created", { ...p, parent: q.id });
    await send("organization.created", { ...q, parent: r.id });
    // r is not known yet: q waits for it as a root.
    expect(await chain(tail.id)).toEqual([q.id, p.id, tail.id]);
    await send("organization.created", { ...r, parent: p.id });
    for (const id of [p.id, q.id, r.id]) expect((await group(id)).parentId).toBeNull();
    expect(await chain(tail.id)).toEqual([p.id, tail.id]);
    await assertPathsConsistent([p.id, q.id, r.id, tail.id]);
  });

  test("a parent that is deleted before its child arrives still anchors the child", async () => {
    const parent = org();
    const child = org({ parent: parent.id });
    await deliver(h.app, secret, delivery("organization.deleted", { object: "organization", id: parent.id, deleted: true }, base + 5));
    await send("organization.created", child);
    expect(await chain(child.id)).toEqual([parent.id, child.id]);
  });
});
