import { describe, expect, test } from "bun:test";
import { groupMembers, groups, idsFromPath, users, webhookEvents } from "@raptscallions/db";
import { eq, like } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import {
  clerkMembershipData,
  clerkOrgData,
  clerkUserData,
  type Delivery,
  deliver,
  delivery,
  makeWebhookSecret,
  type OrgState,
  prng,
  shuffle,
  svixId,
  type UserState,
  webhookDeps,
} from "./helpers/webhooks.ts";

const secret = makeWebhookSecret();
const h = useHarness({ deps: webhookDeps(secret, "org:teacher=teacher") });

const MIN = 60_000;
const T0 = Date.now() - 2 * 24 * 60 * MIN;

interface TimedDelivery extends Delivery {
  at: number;
}

/**
 * A realistic history for one district, built in namespace `ns` so that many copies can share one
 * database: organisations created, renamed, re-parented and deleted; users created, updated,
 * banned, deleted; memberships created, re-roled, removed, re-joined. Memberships embed the
 * organisation and public user data as they were at the membership's time, as Clerk does.
 */
function history(ns: string): TimedDelivery[] {
  const out: TimedDelivery[] = [];
  let seq = 0;
  const emit = (type: string, data: unknown, at: number) => {
    seq += 1;
    out.push({ ...delivery(type, data, at, `${ns}_msg_${seq}`), at });
  };
  const orgHistory = new Map<string, OrgState[]>();
  const userHistory = new Map<string, UserState[]>();
  const orgAt = (id: string, at: number) => {
    const states = (orgHistory.get(id) ?? []).filter((s) => s.updatedAt <= at);
    const last = states[states.length - 1];
    if (!last) throw new Error(`org ${id} unknown at ${at}`);
    return last;
  };
  const userAt = (id: string, at: number) =>
    (userHistory.get(id) ?? []).filter((s) => s.updatedAt <= at).at(-1) ?? { id, first: "Pen", last: "Ding", email: `${id}@x.test` };
  const orgEvent = (type: string, o: OrgState) => {
    orgHistory.set(o.id, [...(orgHistory.get(o.id) ?? []), o]);
    emit(type, clerkOrgData(o), o.updatedAt);
  };
  const userEvent = (type: string, u: UserState) => {
    userHistory.set(u.id, [...(userHistory.get(u.id) ?? []), u]);
    emit(type, clerkUserData(u), u.updatedAt);
  };
  const memEvent = (type: string, id: string, orgId: string, userId: string, role: string, updatedAt: number, at = updatedAt) =>
    emit(type, clerkMembershipData({ id, role, org: orgAt(orgId, at), user: userAt(userId, at), updatedAt }), at);
  const t = (minutes: number) => T0 + minutes * MIN;
  const id = (s: string) => `${ns}_${s}`;
  const [D, S, F, K, E, W] = ["org_district", "org_school", "org_district2", "org_dept", "org_doomed", "org_waiting"].map(id) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const [U1, U2, U3, U4] = ["user_teacher", "user_student", "user_admin", "user_pending"].map(id) as [string, string, string, string];
  const org = (oid: string, name: string, extra: Partial<OrgState>, at: number): OrgState => ({
    id: oid,
    name,
    slug: `${ns}-${name.toLowerCase().replaceAll(" ", "-")}`,
    updatedAt: at,
    ...extra,
  });

  orgEvent("organization.created", org(D, "District", { kind: "district" }, t(0)));
  orgEvent("organization.created", org(S, "School", { kind: "school", parent: D }, t(1)));
  userEvent("user.created", { id: U1, first: "Tess", last: "Teacher", email: `${U1}@school.test`, updatedAt: t(1) });
  orgEvent("organization.created", org(F, "Other District", { kind: "district" }, t(2)));
  userEvent("user.created", { id: U2, first: "Sam", last: "Student", email: `${U2}@school.test`, updatedAt: t(2) });
  orgEvent("organization.created", org(E, "Doomed", {}, t(3)));
  userEvent("user.created", { id: U3, first: "Ann", last: "Admin", email: `${U3}@school.test`, updatedAt: t(3) });
  orgEvent("organization.created", org(W, "Waiting", { parent: id("org_never_seen") }, t(4)));
  orgEvent("organization.created", org(K, "Maths", { kind: "department", parent: S, parentKey: "parentClerkOrgId" }, t(5)));
  orgEvent("organization.updated", org(E, "Doomed Renamed", {}, t(6)));
  memEvent("organizationMembership.created", id("mem_5"), E, U2, "basic_member", t(7));
  userEvent("user.updated", { id: U1, first: "Tessa", last: "Teacher", email: `${U1}@school.test`, updatedAt: t(10) });
  memEvent("organizationMembership.created", id("mem_1"), S, U1, "org:member", t(11));
  memEvent("organizationMembership.created", id("mem_2"), S, U2, "basic_member", t(12));
  memEvent("organizationMembership.created", id("mem_3"), S, U3, "org:admin", t(13));
  memEvent("organizationMembership.created", id("mem_4"), D, U1, "admin", t(14));
  memEvent("organizationMembership.created", id("mem_6"), K, U4, "org:member", t(15));
  memEvent("organizationMembership.updated", id("mem_6"), K, U4, "org:admin", t(16));
  memEvent("organizationMembership.created", id("mem_7"), D, U3, "org:admin", t(17));
  orgEvent("organization.updated", org(S, "School Renamed", { kind: "school", parent: D }, t(20)));
  memEvent("organizationMembership.updated", id("mem_1"), S, U1, "org:teacher", t(21));
  userEvent("user.updated", { id: U2, first: "Sam", last: "Student", email: `${U2}@school.test`, banned: true, updatedAt: t(25) });
  userEvent("user.updated", { id: U1, first: "Tessa", last: "Teacher", email: `${U1}@new.test`, updatedAt: t(30) });
  memEvent("organizationMembership.deleted", id("mem_4"), D, U1, "admin", t(14), t(31));
  memEvent("organizationMembership.created", id("mem_4b"), D, U1, "org:member", t(33));
  userEvent("user.updated", { id: U2, first: "Samuel", last: "Student", email: `${U2}@school.test`, banned: false, updatedAt: t(35) });
  memEvent("organizationMembership.deleted", id("mem_2"), S, U2, "basic_member", t(12), t(36));
  orgEvent("organization.updated", org(S, "School Moved", { kind: "school", parent: F }, t(40)));
  emit("user.deleted", { object: "user", id: U3, deleted: true }, t(45));
  // Clerk's own cascade for one of the deleted user's memberships, a second later.
  memEvent("organizationMembership.deleted", id("mem_3"), S, U3, "org:admin", t(13), t(45) + 1000);
  emit("organization.deleted", { object: "organization", id: E, deleted: true }, t(50));
  return out.sort((a, b) => a.at - b.at);
}

/** Everything the sync wrote for one namespace, with database ids replaced by Clerk ids. */
async function snapshot(ns: string) {
  const norm = (v: string | null) => (v === null ? null : v.replaceAll(ns, "NS"));
  const ms = (d: Date | null) => (d ? d.getTime() - T0 : null);
  const groupRows = await h.db.db
    .select()
    .from(groups)
    .where(like(groups.clerkOrgId, `${ns}_%`));
  const byId = new Map(groupRows.map((g) => [g.id, g]));
  const userRows = await h.db.db
    .select()
    .from(users)
    .where(like(users.clerkUserId, `${ns}_%`));
  const userById = new Map(userRows.map((u) => [u.id, u]));
  const memberRows = await h.db.db
    .select({ m: groupMembers, clerkOrgId: groups.clerkOrgId, clerkUserId: users.clerkUserId })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(like(groups.clerkOrgId, `${ns}_%`));
  return {
    users: userRows
      .map((u) => ({
        clerk: norm(u.clerkUserId),
        email: norm(u.email),
        name: norm(u.name),
        givenName: u.givenName,
        familyName: u.familyName,
        imageUrl: norm(u.imageUrl),
        status: u.status,
        clerkUpdatedAt: ms(u.clerkUpdatedAt),
        deletedAt: ms(u.deletedAt),
      }))
      .sort((a, b) => String(a.clerk).localeCompare(String(b.clerk))),
    groups: groupRows
      .map((g) => ({
        clerk: norm(g.clerkOrgId),
        name: g.name,
        slug: norm(g.slug),
        kind: g.kind,
        parent: g.parentId ? norm(byId.get(g.parentId)?.clerkOrgId ?? "outside") : null,
        path: idsFromPath(g.path).map((gid) => norm(byId.get(gid)?.clerkOrgId ?? "outside")),
        wantedParent: norm(g.clerkParentOrgId),
        clerkUpdatedAt: ms(g.clerkUpdatedAt),
        deletedAt: ms(g.deletedAt),
      }))
      .sort((a, b) => String(a.clerk).localeCompare(String(b.clerk))),
    members: memberRows
      .map(({ m, clerkOrgId, clerkUserId }) => ({
        org: norm(clerkOrgId),
        user: norm(clerkUserId),
        role: m.role,
        clerkMembershipId: norm(m.clerkMembershipId),
        clerkUpdatedAt: ms(m.clerkUpdatedAt),
        deletedAt: ms(m.deletedAt),
        userKnown: userById.has(m.userId),
      }))
      .sort((a, b) => `${a.org}/${a.user}`.localeCompare(`${b.org}/${b.user}`)),
  };
}

async function deliverAll(list: Delivery[]) {
  for (const d of list) {
    const res = await deliver(h.app, secret, d);
    if (res.status !== 200) throw new Error(`${d.type} ${d.msgId} → ${res.status} ${await res.text()}`);
  }
}

const runId = crypto.randomUUID().slice(0, 8);
let inOrder: Promise<Awaited<ReturnType<typeof snapshot>>> | undefined;
/** The rows in-order delivery gives (computed once, by whichever test needs it first). */
function expectedRows() {
  inOrder ??= (async () => {
    const ns = `c${runId}in`;
    await deliverAll(history(ns));
    return snapshot(ns);
  })();
  return inOrder;
}

describe("convergence: any arrival order ends in the in-order rows", () => {
  test("in-order delivery gives the rows the history describes", async () => {
    const expected = await expectedRows();
    const g = (c: string) => expected.groups.find((x) => x.clerk === `NS_${c}`);
    const u = (c: string) => expected.users.find((x) => x.clerk === `NS_${c}`);
    const m = (o: string, us: string) => expected.members.find((x) => x.org === `NS_${o}` && x.user === `NS_${us}`);
    expect(g("org_school")).toMatchObject({ name: "School Moved", parent: "NS_org_district2", deletedAt: null });
    expect(g("org_dept")?.path).toEqual(["NS_org_district2", "NS_org_school", "NS_org_dept"]);
    expect(g("org_waiting")).toMatchObject({ parent: null, wantedParent: "NS_org_never_seen" });
    expect(g("org_doomed")).toMatchObject({ name: "Doomed Renamed", deletedAt: 50 * MIN });
    expect(u("user_teacher")).toMatchObject({ givenName: "Tessa", email: "NS_user_teacher@new.test", status: "active" });
    expect(u("user_student")).toMatchObject({ givenName: "Samuel", status: "active" });
    expect(u("user_admin")).toMatchObject({ status: "deleted", email: null, name: "Deleted user", deletedAt: 45 * MIN });
    expect(u("user_pending")).toMatchObject({ status: "pending", clerkUpdatedAt: null });
    expect(m("org_school", "user_teacher")).toMatchObject({ role: "teacher", deletedAt: null });
    expect(m("org_school", "user_student")?.deletedAt).toBe(36 * MIN);
    expect(m("org_school", "user_admin")?.deletedAt).toBe(45 * MIN + 1000);
    expect(m("org_district", "user_admin")?.deletedAt).toBe(45 * MIN);
    expect(m("org_district", "user_teacher")).toMatchObject({ role: "member", clerkMembershipId: "NS_mem_4b", deletedAt: null });
    expect(m("org_dept", "user_pending")?.role).toBe("admin");
    expect(expected.members).toHaveLength(7);
  });

  test("the fully reversed order converges", async () => {
    const ns = `c${runId}rev`;
    await deliverAll(history(ns).reverse());
    expect(await snapshot(ns)).toEqual(await expectedRows());
  });

  test("50 seeded permutations with duplicates and hours-late redeliveries all converge", async () => {
    const expected = await expectedRows();
    const PERMUTATIONS = 50;
    const BATCH = 5;
    for (let start = 0; start < PERMUTATIONS; start += BATCH) {
      // A few namespaces at a time, concurrently, as several API instances would see them.
      await Promise.all(
        Array.from({ length: Math.min(BATCH, PERMUTATIONS - start) }, async (_, k) => {
          const seed = 1000 + start + k;
          const rand = prng(seed);
          const ns = `c${runId}p${seed}`;
          const events = history(ns);
          const order = shuffle(events, rand);
          // Svix retries: the same svix-id again, somewhere later.
          const withDuplicates: Delivery[] = [];
          for (const d of order) {
            withDuplicates.push(d);
            if (rand() < 0.25) withDuplicates.splice(withDuplicates.length + Math.floor(rand() * 5), 0, d);
          }
          // Hours later: old events again, half as retries (same id), half re-sent (a new id).
          for (let i = 0; i < 8; i++) {
            const old = events[Math.floor(rand() * events.length)];
            if (!old) continue;
            withDuplicates.push(rand() < 0.5 ? old : { ...old, msgId: svixId(`${ns}_resent`) });
          }
          try {
            await deliverAll(withDuplicates);
            expect(await snapshot(ns)).toEqual(expected);
          } catch (err) {
            throw new Error(`permutation seed ${seed} diverged: ${String(err)}`);
          }
        }),
      );
    }
  }, 600_000);

  test("every delivery is recorded once, whatever the duplicates", async () => {
    const ns = `c${runId}rec`;
    const events = history(ns);
    await deliverAll([...events, ...events.slice(0, 10)]);
    const rows = await h.db.db
      .select()
      .from(webhookEvents)
      .where(like(webhookEvents.svixId, `${ns}_msg_%`));
    expect(rows).toHaveLength(events.length);
    expect(rows.every((r) => r.processedAt !== null && (r.outcome === "applied" || r.outcome === "stale"))).toBe(true);
  });
});

describe("concurrency", () => {
  test("the same svix-id delivered twice at once is applied once; both answer 200", async () => {
    const ns = `c${runId}dup`;
    const events = history(ns);
    const first = events.find((e) => e.type === "organizationMembership.created");
    if (!first) throw new Error("no membership event");
    const [a, b] = await Promise.all([deliver(h.app, secret, first), deliver(h.app, secret, first)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const outcomes = [((await a.json()) as { outcome: string }).outcome, ((await b.json()) as { outcome: string }).outcome];
    expect(outcomes.sort()).toEqual(["applied", "duplicate"]);
    expect(await h.db.db.select().from(webhookEvents).where(eq(webhookEvents.svixId, first.msgId))).toHaveLength(1);
    expect((await snapshot(ns)).members).toHaveLength(1);
  });

  test("a whole history delivered at once (every event concurrently, twice) still converges", async () => {
    const ns = `c${runId}burst`;
    const events = history(ns);
    const responses = await Promise.all([...events, ...events].map((d) => deliver(h.app, secret, d)));
    expect(responses.map((r) => r.status).every((s) => s === 200)).toBe(true);
    expect(await snapshot(ns)).toEqual(await expectedRows());
  });

  test("parents and children created at the same moment always end up linked", async () => {
    const pairs = Array.from({ length: 20 }, (_, i) => {
      const parent: OrgState = { id: `c${runId}race_p${i}`, name: "P", slug: `c${runId}-race-p${i}`, updatedAt: T0 };
      const child: OrgState = { id: `c${runId}race_c${i}`, name: "C", slug: `c${runId}-race-c${i}`, parent: parent.id, updatedAt: T0 };
      return [parent, child] as const;
    });
    const responses = await Promise.all(
      pairs.flatMap(([p, c]) => [
        deliver(h.app, secret, delivery("organization.created", clerkOrgData(c), T0)),
        deliver(h.app, secret, delivery("organization.created", clerkOrgData(p), T0)),
      ]),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    for (const [p, c] of pairs) {
      const [parentRow] = await h.db.db.select().from(groups).where(eq(groups.clerkOrgId, p.id));
      const [childRow] = await h.db.db.select().from(groups).where(eq(groups.clerkOrgId, c.id));
      expect(childRow?.parentId).toBe(parentRow?.id ?? "missing");
      expect(childRow?.path).toBe(`${parentRow?.path}.${childRow?.id.replaceAll("-", "_")}`);
    }
  });
});
