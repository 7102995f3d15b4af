import { describe, expect, test } from "bun:test";
import { groupMembers, users } from "@raptscallions/db";
import { addClassMember, addGroupMember, makeClass, makeGroup, makeUser } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { SignJWT, importPKCS8 } from "jose";
import { generateDevKeyPair, mintSessionToken } from "../src/auth/dev-keys.ts";
import { authHeader, testAuthenticator, testKeys, tokenFor } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();

async function expect401(headers: Record<string, string>, reason?: string) {
  const res = await h.app.request("/api/me", { headers });
  expect(res.status).toBe(401);
  const body = (await res.json()) as { error: { code: string; details?: { reason?: string } } };
  expect(body.error.code).toBe("UNAUTHENTICATED");
  if (reason) expect(body.error.details?.reason).toBe(reason);
  expect(res.headers.get("x-clerk-auth-reason")).toBeNull();
}

describe("token verification (Clerk's code path with a local RSA-2048 key)", () => {
  test("a valid token → 200 with the user", async () => {
    const user = await makeUser(h.db.db);
    const res = await h.app.request("/api/me", { headers: await authHeader(user) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { id: string; email: string } };
    expect(body.user.id).toBe(user.id);
  });

  test("missing token → 401", async () => {
    await expect401({});
  });

  test("a non-bearer scheme → 401", async () => {
    await expect401({ authorization: "Basic dXNlcjpwYXNz" });
  });

  test("expired token → 401", async () => {
    const user = await makeUser(h.db.db);
    const token = await tokenFor(user, { issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 60 });
    await expect401({ authorization: `Bearer ${token}` }, "token-expired");
  });

  test("not-yet-valid token → 401", async () => {
    const user = await makeUser(h.db.db);
    const token = await tokenFor(user, { notBeforeOffsetSeconds: 3600 });
    await expect401({ authorization: `Bearer ${token}` });
  });

  test("token signed by another key (same kid) → 401", async () => {
    const user = await makeUser(h.db.db);
    const other = await generateDevKeyPair("test-key");
    const token = await mintSessionToken(other, { userId: user.clerkUserId ?? "" });
    await expect401({ authorization: `Bearer ${token}` });
  });

  test("malformed tokens → 401, never 500", async () => {
    const good = await tokenFor(await makeUser(h.db.db));
    const [head, p] = good.split(".");
    for (const bad of [
      "garbage",
      "a.b",
      `${head}.${p}.`,
      `${head}.${p}.!!!`,
      `${head}.${p}.AAAA`,
      `${head}.${p}.${"A".repeat(7)}`,
      `${head}.bm90IGpzb24.${good.split(".")[2]}`,
      "e30.e30.e30",
      `${"x".repeat(5000)}.${"y".repeat(5000)}.${"z".repeat(5000)}`,
      "ak_live_123",
    ]) {
      await expect401({ authorization: `Bearer ${bad}` });
    }
  });

  test("alg: none → 401", async () => {
    const user = await makeUser(h.db.db);
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const token = `${enc({ alg: "none", typ: "JWT", kid: "test-key" })}.${enc({ sub: user.clerkUserId, iat: now, nbf: now, exp: now + 600 })}.`;
    await expect401({ authorization: `Bearer ${token}` });
    await expect401({ authorization: `Bearer ${token}sig` });
  });

  test("HS256 signed with the public key as secret → 401", async () => {
    const user = await makeUser(h.db.db);
    const keys = await testKeys();
    const token = await new SignJWT({ sub: user.clerkUserId ?? "" })
      .setProtectedHeader({ alg: "HS256", kid: "test-key" })
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(keys.publicPem));
    await expect401({ authorization: `Bearer ${token}` });
  });

  test("authorized parties: azp must match when configured", async () => {
    const { app: strict } = await h.withApp({ deps: { auth: await testAuthenticator({ authorizedParties: ["https://app.example.test"] }) } });
    const user = await makeUser(h.db.db);
    const ok = await strict.request("/api/me", { headers: await authHeader(user, { azp: "https://app.example.test" }) });
    expect(ok.status).toBe(200);
    const wrong = await strict.request("/api/me", { headers: await authHeader(user, { azp: "https://evil.example" }) });
    expect(wrong.status).toBe(401);
    const missing = await strict.request("/api/me", { headers: await authHeader(user) });
    expect(missing.status).toBe(401);
  });

  test("importPKCS8 of the dev key works (sanity for the token CLI)", async () => {
    const keys = await testKeys();
    await importPKCS8(keys.privatePem, "RS256");
    expect(keys.publicPem).toContain("BEGIN PUBLIC KEY");
  });
});

describe("provisioning and organisations", () => {
  test("a user unknown to the database is provisioned from the token as pending", async () => {
    const clerkUserId = `user_new_${crypto.randomUUID().slice(0, 8)}`;
    const res = await h.app.request("/api/me", {
      headers: await authHeader(clerkUserId, { claims: { email: "new@example.test", name: "New Person" } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { status: string; email: string; name: string } };
    expect(body.user).toMatchObject({ status: "pending", email: "new@example.test", name: "New Person" });
    // A second request finds the same row, no duplicate.
    const again = await h.app.request("/api/me", { headers: await authHeader(clerkUserId) });
    expect(again.status).toBe(200);
    const rows = await h.db.db.select().from(users).where(eq(users.clerkUserId, clerkUserId));
    expect(rows).toHaveLength(1);
  });

  test.each([1, 2] as const)("an org in a v%d token resolves to its group and records the membership", async (version) => {
    const orgId = `org_${crypto.randomUUID().slice(0, 8)}`;
    const group = await makeGroup(h.db.db, { clerkOrgId: orgId });
    const user = await makeUser(h.db.db);
    const res = await h.app.request("/api/me", {
      headers: await authHeader(user, { version, org: { id: orgId, slug: group.slug, role: "org:admin" } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { activeGroupId: string; groups: { id: string; role: string }[] };
    expect(body.activeGroupId).toBe(group.id);
    expect(body.groups).toEqual([expect.objectContaining({ id: group.id, role: "admin" })]);
  });

  test("a token cannot resurrect a membership a webhook deleted", async () => {
    const orgId = `org_${crypto.randomUUID().slice(0, 8)}`;
    const group = await makeGroup(h.db.db, { clerkOrgId: orgId });
    const user = await makeUser(h.db.db);
    await addGroupMember(h.db.db, group.id, user.id, "member");
    await h.db.db
      .update(groupMembers)
      .set({ deletedAt: new Date() })
      .where(and(eq(groupMembers.groupId, group.id), eq(groupMembers.userId, user.id)));
    const res = await h.app.request("/api/me", { headers: await authHeader(user, { org: { id: orgId, role: "admin" } }) });
    const body = (await res.json()) as { groups: unknown[] };
    expect(body.groups).toEqual([]);
  });

  test("a deleted user cannot sign in", async () => {
    const user = await makeUser(h.db.db, { deletedAt: new Date(), status: "deleted" });
    await expect401(await authHeader(user));
  });

  test("/api/me lists classes with roles", async () => {
    const group = await makeGroup(h.db.db);
    const cls = await makeClass(h.db.db, group.id);
    const user = await makeUser(h.db.db);
    await addClassMember(h.db.db, cls.id, user.id, "teacher");
    const res = await h.app.request("/api/me", { headers: await authHeader(user) });
    const body = (await res.json()) as { classes: { id: string; role: string }[] };
    expect(body.classes).toEqual([expect.objectContaining({ id: cls.id, role: "teacher" })]);
  });
});
