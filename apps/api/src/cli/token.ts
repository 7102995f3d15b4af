// `bun run token -- <user> [--org <slug|org_id>] [--role <role>] [--ttl <seconds>] [--v1]`
// Mints a dev-auth session token for a seeded user (admin, principal, teacher, student1..3), an
// e-mail of the seed, or any Clerk user id (a new one is provisioned on first use). Works while the
// server runs: it reads only the key pair in DATA_DIR, never the database.
import { SEED } from "@raptscallions/db";
import { parseArgs } from "node:util";
import { loadOrCreateDevKeys, mintSessionToken } from "../auth/dev-keys.ts";
import { DEV_USERS } from "../auth/dev-users.ts";

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: {
    org: { type: "string" },
    role: { type: "string", default: "member" },
    ttl: { type: "string", default: "86400" },
    v1: { type: "boolean", default: false },
    name: { type: "string" },
    email: { type: "string" },
  },
  allowPositionals: true,
});

const who = positionals[0];
if (!who) {
  console.error("usage: bun run token -- <user> [--org <slug|org_id>] [--role admin|teacher|member] [--ttl seconds]");
  console.error("seeded users: admin, principal, teacher, student1, student2, student3");
  process.exit(2);
}

const seeded: Record<string, { clerkUserId: string; email: string; name: string }> = Object.fromEntries(DEV_USERS.map((u) => [u.key, u]));
const all = Object.values(seeded);
const user = seeded[who] ?? all.find((u) => u.email === who || u.clerkUserId === who);
const userId = user?.clerkUserId ?? (who.startsWith("user_") ? who : `user_dev_${who.replace(/[^A-Za-z0-9]/g, "_")}`);

let org: { id: string; slug?: string; role: string } | undefined;
if (values.org) {
  const g = Object.values(SEED.groups).find((x) => x.slug === values.org || x.clerkOrgId === values.org);
  if (!g && !values.org.startsWith("org_")) {
    console.error(`unknown org "${values.org}": use a seeded slug or a Clerk org id (org_…)`);
    process.exit(2);
  }
  org = { id: g?.clerkOrgId ?? values.org, slug: g?.slug ?? values.org, role: values.role ?? "member" };
}

const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) {
  console.error("--ttl must be a positive number of seconds");
  process.exit(2);
}
const keys = await loadOrCreateDevKeys(process.env.DATA_DIR ?? "./.data");
const claims: Record<string, unknown> = {};
if (user) Object.assign(claims, { email: user.email, name: user.name });
if (values.email) claims.email = values.email;
if (values.name) claims.name = values.name;
const token = await mintSessionToken(keys, { userId, org, version: values.v1 ? 1 : 2, expiresInSeconds: ttl, claims });
console.log(token);
