/**
 * Roster connection secrets at rest: AES-256-GCM through Web Crypto, under a key from
 * `ROSTER_CREDENTIALS_KEY` (32 bytes, base64). Each ciphertext names its key by id (the first 8
 * bytes of the key's SHA-256, hex), so a new key can be introduced while older ciphertexts still
 * decrypt with the previous keys (`ROSTER_CREDENTIALS_PREVIOUS_KEYS`) until they are re-saved.
 * Without configuration a fixed development key is used: fine on a laptop, never in production
 * (the README says so, and the server logs a warning when it starts with it).
 */

/** base64 of 32 bytes; public on purpose: it protects nothing but local development data. */
export const DEV_ROSTER_CREDENTIALS_KEY = "cmFwdHNjYWxsaW9ucy1kZXYtcm9zdGVyLWtleS0zMmI=";

export interface RosterKeyring {
  current: { id: string; key: CryptoKey };
  byId: Map<string, CryptoKey>;
}

export class CredentialKeyError extends Error {
  override readonly name = "CredentialKeyError";
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Whether `text` is base64 of exactly 32 bytes (what env.ts accepts). */
export function isRosterKey(text: string): boolean {
  try {
    return fromBase64(text.trim()).length === 32;
  } catch {
    return false;
  }
}

async function importKey(base64: string): Promise<{ id: string; key: CryptoKey }> {
  const raw = fromBase64(base64.trim());
  if (raw.length !== 32) throw new CredentialKeyError("a roster credentials key is 32 bytes, base64-encoded");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  const id = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const key = await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return { id, key };
}

/** The keyring from the current key and any previous ones (base64 each). */
export async function createRosterKeyring(current: string, previous: string[] = []): Promise<RosterKeyring> {
  const cur = await importKey(current);
  const byId = new Map<string, CryptoKey>([[cur.id, cur.key]]);
  for (const p of previous) {
    const k = await importKey(p);
    if (!byId.has(k.id)) byId.set(k.id, k.key);
  }
  return { current: cur, byId };
}

/** What is stored for a secret: the ciphertext (`base64(iv).base64(ct)`), its key id, and its last 4 characters. */
export async function encryptSecret(ring: RosterKeyring, secret: string): Promise<{ ciphertext: string; keyId: string; last4: string }> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, ring.current.key, new TextEncoder().encode(secret)));
  return { ciphertext: `${toBase64(iv)}.${toBase64(ct)}`, keyId: ring.current.id, last4: secret.slice(-4) };
}

/** The secret back; throws `CredentialKeyError` when its key is not in the ring or it was tampered with. */
export async function decryptSecret(ring: RosterKeyring, stored: { ciphertext: string; keyId: string }): Promise<string> {
  const key = ring.byId.get(stored.keyId);
  if (!key) throw new CredentialKeyError(`the connection's secret was encrypted with key ${stored.keyId}, which this server does not have; save the secret again`);
  const [iv, ct] = stored.ciphertext.split(".");
  if (!iv || !ct) throw new CredentialKeyError("the stored secret is malformed; save it again");
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(iv) }, key, fromBase64(ct));
    return new TextDecoder().decode(plain);
  } catch {
    throw new CredentialKeyError("the stored secret does not decrypt; save it again");
  }
}
