import { exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT } from "jose";
import { readFileSync } from "node:fs";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A local RSA-2048 signing pair standing in for Clerk's instance keys (dev auth and tests). */
export interface DevKeyPair {
  kid: string;
  privatePem: string;
  publicPem: string;
}

// The Clerk SDK strips a fixed 2048-bit SPKI prefix from PEM keys: a 4096-bit key fails as token-invalid-signature.
const MODULUS_LENGTH = 2048;
export const DEV_ISSUER = "https://dev.clerk.local";
/** Publishable keys are `pk_test_` + base64(`<frontend api host>$`); this one names no real instance. */
export const DEV_PUBLISHABLE_KEY = `pk_test_${btoa("dev.clerk.local$")}`;
export const DEV_SECRET_KEY = "sk_test_dev_auth_local_only";

export async function generateDevKeyPair(kid = `dev-${crypto.randomUUID().slice(0, 8)}`): Promise<DevKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: MODULUS_LENGTH, extractable: true });
  return { kid, privatePem: await exportPKCS8(privateKey), publicPem: await exportSPKI(publicKey) };
}

/**
 * Loads the pair kept in `<dir>/dev-auth/keys.json`, creating it on first use so tokens survive
 * restarts. Several processes may start at once on one fresh DATA_DIR (two instances, or an
 * instance and `bun run token`): each writes its candidate to a private temp file and hard-links
 * it into place, which fails if the name exists, so exactly one pair wins and every loser reads
 * the winner's. Readers never see a half-written file, since a link appears complete or not at all.
 */
export async function loadOrCreateDevKeys(dataDir: string): Promise<DevKeyPair> {
  const dir = join(dataDir, "dev-auth");
  const file = join(dir, "keys.json");
  const existing = await readKeyFile(file);
  if (existing) return existing;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = await generateDevKeyPair();
  const temp = join(dir, `.keys.${process.pid}.${crypto.randomUUID()}.tmp`);
  await writeFile(temp, JSON.stringify(pair, null, 2), { mode: 0o600, flag: "wx" });
  try {
    await link(temp, file);
    return pair;
  } catch (err) {
    if (errorCode(err) === "EEXIST") return (await readKeyFile(file)) ?? corrupt(file);
    if (!LINK_UNSUPPORTED.has(errorCode(err) ?? "")) throw err;
    // Filesystems without hard links: exclusive create still picks one winner; a loser may
    // catch the winner mid-write, so it reads until the file parses.
    try {
      await writeFile(file, JSON.stringify(pair, null, 2), { mode: 0o600, flag: "wx" });
      return pair;
    } catch (createErr) {
      if (errorCode(createErr) !== "EEXIST") throw createErr;
      return waitForKeyFile(file);
    }
  } finally {
    await unlink(temp).catch(() => {});
  }
}

const LINK_UNSUPPORTED = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

async function readKeyFile(file: string): Promise<DevKeyPair | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (errorCode(err) === "ENOENT") return null;
    throw err;
  }
  const pair = parseKeyPair(text);
  return pair ?? corrupt(file);
}

async function waitForKeyFile(file: string): Promise<DevKeyPair> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const pair = parseKeyPair(await readFile(file, "utf8"));
    if (pair) return pair;
    if (Date.now() > deadline) return corrupt(file);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function parseKeyPair(text: string): DevKeyPair | null {
  try {
    const value = JSON.parse(text) as Partial<DevKeyPair> | null;
    if (value && typeof value.kid === "string" && typeof value.privatePem === "string" && typeof value.publicPem === "string") {
      return { kid: value.kid, privatePem: value.privatePem, publicPem: value.publicPem };
    }
  } catch {
    // fall through: not a key file
  }
  return null;
}

function corrupt(file: string): never {
  throw new Error(`${file} is not a dev key pair; delete it to generate a new one (tokens minted with the old key stop working)`);
}

function errorCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : undefined;
}

export interface SessionTokenInput {
  userId: string;
  sessionId?: string;
  org?: { id: string; slug?: string; role?: string } | undefined;
  /** v1 puts org_* claims at the top level; v2 (Clerk's current format) nests them in `o`. */
  version?: 1 | 2;
  azp?: string;
  expiresInSeconds?: number;
  notBeforeOffsetSeconds?: number;
  /** Extra claims (email, name…) as a customised Clerk session token would carry. */
  claims?: Record<string, unknown>;
  issuedAt?: number;
}

/** Mints a Clerk-shaped session token signed with the dev key (for `bun run token` and tests). */
export async function mintSessionToken(keys: DevKeyPair, input: SessionTokenInput): Promise<string> {
  const now = input.issuedAt ?? Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    sid: input.sessionId ?? `sess_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`,
    ...input.claims,
  };
  if (input.azp) payload.azp = input.azp;
  if (input.org) {
    const role = input.org.role ?? "member";
    if ((input.version ?? 2) === 2) {
      payload.v = 2;
      // v2 carries the role without the `org:` prefix (the SDK adds it back).
      payload.o = { id: input.org.id, slg: input.org.slug, rol: role.replace(/^org:/, "") };
    } else {
      payload.org_id = input.org.id;
      payload.org_slug = input.org.slug;
      payload.org_role = role.startsWith("org:") ? role : `org:${role}`;
    }
  } else if ((input.version ?? 2) === 2) {
    payload.v = 2;
  }
  const key = await importPKCS8(keys.privatePem, "RS256");
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "RS256", kid: keys.kid, typ: "JWT" })
    .setSubject(input.userId)
    .setIssuer(DEV_ISSUER)
    .setIssuedAt(now)
    .setNotBefore(now + (input.notBeforeOffsetSeconds ?? -5))
    .setExpirationTime(now + (input.expiresInSeconds ?? 3600))
    .sign(key);
}

export function readPem(path: string): string {
  return readFileSync(path, "utf8");
}
