/**
 * Who is signed in. Dev auth: a token minted by `POST /api/dev/token` for a seeded user, kept in
 * sessionStorage (per tab, so a student and a teacher can sit in two tabs of one browser). Clerk:
 * clerk-js loaded from the instance's own host, and its session token on every request.
 */
export interface ConsoleConfig {
  auth: "dev" | "clerk";
  devSignIn: boolean;
  clerk: { publishableKey: string; frontendApi: string } | null;
}

export interface DevUserChoice {
  key: string;
  name: string;
  email: string;
  role: string;
}

const TOKEN_KEY = "rapt.devToken";

interface ClerkLike {
  load(): Promise<void>;
  session?: { getToken(): Promise<string | null> } | null;
  user?: unknown;
  mountSignIn(el: HTMLElement): void;
  signOut(): Promise<void>;
  addListener(cb: () => void): void;
}

let clerk: ClerkLike | null = null;

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch("/app/config.json");
  if (!res.ok) throw new Error(`config: HTTP ${res.status}`);
  return (await res.json()) as ConsoleConfig;
}

export function devToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export async function listDevUsers(): Promise<DevUserChoice[]> {
  const res = await fetch("/api/dev/users");
  if (!res.ok) throw new Error(`dev users: HTTP ${res.status}`);
  return ((await res.json()) as { items: DevUserChoice[] }).items;
}

export async function devSignIn(user: string): Promise<void> {
  const res = await fetch("/api/dev/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user }),
  });
  const body = (await res.json().catch(() => null)) as { token?: string; error?: { message?: string } } | null;
  if (!res.ok || !body?.token) throw new Error(body?.error?.message ?? `sign-in failed (HTTP ${res.status})`);
  sessionStorage.setItem(TOKEN_KEY, body.token);
}

/**
 * Loads clerk-js from `https://<frontend api>/npm/@clerk/clerk-js@5/dist/clerk.browser.js` — the
 * host is encoded in the publishable key — as Clerk documents for script-tag installs.
 */
export async function loadClerk(cfg: NonNullable<ConsoleConfig["clerk"]>): Promise<ClerkLike> {
  if (clerk) return clerk;
  await new Promise<void>((resolve, reject) => {
    const s = document.createElement("script");
    s.src = `https://${cfg.frontendApi}/npm/@clerk/clerk-js@5/dist/clerk.browser.js`;
    s.async = true;
    s.crossOrigin = "anonymous";
    s.dataset.clerkPublishableKey = cfg.publishableKey;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error("Clerk's sign-in could not be loaded"));
    document.head.append(s);
  });
  const loaded = (globalThis as unknown as { Clerk?: ClerkLike }).Clerk;
  if (!loaded) throw new Error("Clerk did not start");
  await loaded.load();
  clerk = loaded;
  return loaded;
}

export function clerkInstance(): ClerkLike | null {
  return clerk;
}

/** The bearer token for the next request (a refreshed one with Clerk). */
export async function currentToken(): Promise<string | null> {
  if (clerk) return (await clerk.session?.getToken()) ?? null;
  return devToken();
}

export async function signOut(): Promise<void> {
  sessionStorage.removeItem(TOKEN_KEY);
  if (clerk) await clerk.signOut();
}
