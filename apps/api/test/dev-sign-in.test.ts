import { describe, expect, test } from "bun:test";
import { createDevSignIn } from "../src/auth/dev-sign-in.ts";
import { DEV_USERS } from "../src/auth/dev-users.ts";
import { createAuthenticator } from "../src/auth/index.ts";
import { testKeys } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";

/** `POST /api/dev/token`: on dev auth outside production only. */
const h = useHarness();

describe("dev sign-in", () => {
  test("lists the seeded users and mints a token the API accepts", async () => {
    const { app } = await h.withApp();
    const users = (await (await app.request("/api/dev/users")).json()) as { items: { key: string }[] };
    expect(users.items.map((u) => u.key)).toEqual(["admin", "principal", "teacher", "student1", "student2", "student3"]);

    const res = await app.request("/api/dev/token", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user: "student2" }) });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string; expiresAt: string; user: { key: string; email: string } };
    expect(body.user).toMatchObject({ key: "student2", email: "lee.learner@northwind.example" });
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now() + 3600_000);
    const me = await app.request("/api/me", { headers: { authorization: `Bearer ${body.token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { clerkUserId: string } }).user.clerkUserId).toBe("user_dev_student2");
  });

  test("an unknown user or a bad body is a 4xx in the envelope", async () => {
    const { app } = await h.withApp();
    const cases: [string, string, number, string][] = [
      ["unknown user", JSON.stringify({ user: "mallory" }), 422, "VALIDATION_FAILED"],
      ["extra key", JSON.stringify({ user: "teacher", admin: true }), 422, "VALIDATION_FAILED"],
      ["broken JSON", "{", 400, "INVALID_JSON"],
    ];
    for (const [label, body, status, code] of cases) {
      const res = await app.request("/api/dev/token", { method: "POST", headers: { "content-type": "application/json" }, body });
      const json = (await res.json()) as { error?: { code?: string } };
      expect({ label, status: res.status, code: json.error?.code }).toEqual({ label, status, code });
    }
  });

  test("the OpenAPI document describes the routes when they are mounted", async () => {
    const { app } = await h.withApp();
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(doc.paths["/api/dev/token"]?.post?.responses["201"]).toBeDefined();
    expect(doc.paths["/api/dev/users"]?.get?.responses["200"]).toBeDefined();
  });

  test("absent with Clerk, even if a sign-in were passed in", async () => {
    const keys = await testKeys();
    const clerkAuth = createAuthenticator({ mode: "clerk", secretKey: "sk_test_x", publishableKey: `pk_test_${btoa("x.clerk.accounts.dev$")}`, jwtKey: keys.publicPem });
    const { app } = await h.withApp({ deps: { auth: clerkAuth, devSignIn: createDevSignIn({ keys, nodeEnv: "development" }) } });
    for (const [method, path] of [
      ["POST", "/api/dev/token"],
      ["GET", "/api/dev/users"],
    ] as const) {
      const res = await app.request(path, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "POST" ? JSON.stringify({ user: "admin" }) : undefined,
      });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
  });

  test("absent without a sign-in: server.ts gives none with Clerk (no dev keys) or in production", async () => {
    const keys = await testKeys();
    expect(createDevSignIn({ keys, nodeEnv: "production" })).toBeUndefined();
    expect(createDevSignIn({ keys: null, nodeEnv: "development" })).toBeUndefined();
    expect(createDevSignIn({ keys, nodeEnv: "development" })?.users).toBe(DEV_USERS);
    const { app } = await h.withApp({ deps: { devSignIn: undefined } });
    expect(
      (await app.request("/api/dev/token", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user: "admin" }) })).status,
    ).toBe(404);
  });
});
