import { seededRandom } from "@raptscallions/core";
import { Webhook } from "svix";
import type { AppConfig } from "../../src/deps.ts";
import { parseRoleMap } from "../../src/access/roles.ts";
import type { DepsOverrides } from "./harness.ts";

/** A fresh Svix signing secret, in Clerk's `whsec_<base64>` form. */
export function makeWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

let msgCounter = 0;
/** A unique Svix message id (`msg_…`). */
export function svixId(prefix = "msg"): string {
  msgCounter += 1;
  return `${prefix}_${msgCounter}_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Svix headers for `payload` signed with `secret` (a real signature, as Svix computes it). */
export function signedHeaders(secret: string, payload: string, opts: { msgId?: string; timestamp?: Date } = {}): Record<string, string> {
  const msgId = opts.msgId ?? svixId();
  const timestamp = opts.timestamp ?? new Date();
  return {
    "content-type": "application/json",
    "svix-id": msgId,
    "svix-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
    "svix-signature": new Webhook(secret).sign(msgId, timestamp, payload),
  };
}

/** One Clerk event as Svix would deliver it: its message id and exact body. */
export interface Delivery {
  msgId: string;
  body: string;
  /** For tests that build expectations: the event's type. */
  type: string;
}

export function delivery(type: string, data: unknown, timestamp: number, msgId = svixId()): Delivery {
  return { msgId, type, body: JSON.stringify({ object: "event", type, timestamp, data, event_attributes: {} }) };
}

interface RequestApp {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** Posts a delivery, freshly signed (as every Svix attempt is), to the Clerk webhook endpoint. */
export function deliver(app: RequestApp, secret: string, d: Delivery, opts: { timestamp?: Date } = {}) {
  return app.request("/api/webhooks/clerk", {
    method: "POST",
    headers: signedHeaders(secret, d.body, { msgId: d.msgId, ...opts }),
    body: d.body,
  });
}

// ---- Clerk payload builders (shapes of @clerk/backend's UserJSON, OrganizationJSON, ...) ----

export interface UserState {
  id: string;
  first: string | null;
  last: string | null;
  email: string;
  imageUrl?: string;
  banned?: boolean;
  updatedAt: number;
}

export function clerkUserData(u: UserState) {
  const emailId = `idn_${u.id}`;
  return {
    object: "user",
    id: u.id,
    username: null,
    first_name: u.first,
    last_name: u.last,
    image_url: u.imageUrl ?? `https://img.clerk.test/${u.id}.png`,
    has_image: true,
    primary_email_address_id: emailId,
    email_addresses: [
      { object: "email_address", id: `idn_other_${u.id}`, email_address: `old-${u.email}`, verification: null, linked_to: [] },
      { object: "email_address", id: emailId, email_address: u.email, verification: null, linked_to: [] },
    ],
    phone_numbers: [],
    external_accounts: [],
    public_metadata: {},
    private_metadata: {},
    unsafe_metadata: {},
    banned: u.banned ?? false,
    locked: false,
    created_at: u.updatedAt - 1000,
    updated_at: u.updatedAt,
  };
}

export interface OrgState {
  id: string;
  name: string;
  slug: string | null;
  parent?: string | null;
  /** Which metadata key names the parent (both are accepted). */
  parentKey?: "parent_org_id" | "parentClerkOrgId";
  kind?: string;
  updatedAt: number;
}

export function clerkOrgData(o: OrgState) {
  const meta: Record<string, unknown> = {};
  if (o.parent) meta[o.parentKey ?? "parent_org_id"] = o.parent;
  if (o.kind) meta.kind = o.kind;
  return {
    object: "organization",
    id: o.id,
    name: o.name,
    slug: o.slug,
    image_url: `https://img.clerk.test/${o.id}.png`,
    has_image: false,
    max_allowed_memberships: 0,
    admin_delete_enabled: true,
    public_metadata: meta,
    created_by: "user_creator",
    created_at: o.updatedAt - 1000,
    updated_at: o.updatedAt,
  };
}

export interface MembershipState {
  id: string;
  role: string;
  org: OrgState;
  user: { id: string; first: string | null; last: string | null; email: string };
  updatedAt: number;
}

export function clerkMembershipData(m: MembershipState) {
  return {
    object: "organization_membership",
    id: m.id,
    role: m.role,
    permissions: [],
    public_metadata: {},
    created_at: m.updatedAt - 1000,
    updated_at: m.updatedAt,
    organization: clerkOrgData(m.org),
    public_user_data: {
      user_id: m.user.id,
      first_name: m.user.first,
      last_name: m.user.last,
      identifier: m.user.email,
      image_url: `https://img.clerk.test/${m.user.id}.png`,
      has_image: false,
    },
  };
}

/** Deterministic PRNG so a failing permutation can be replayed from its seed. */
export const prng = seededRandom;

export function shuffle<T>(items: T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Harness dependencies for an app whose webhook route verifies with `secret`, with Clerk role
 * mapping as configured by `roleMap`, and any other settings in `config` (e.g. production's 1 MB
 * body limit): `useHarness({ deps: webhookDeps(secret) })`.
 */
export function webhookDeps(secret: string, roleMap?: string, config: Partial<AppConfig> = {}): DepsOverrides {
  return (base) => ({
    ...(roleMap ? { auth: { ...base.auth, roleMap: parseRoleMap(roleMap) } } : {}),
    config: { ...base.config, ...config, clerkWebhookSecret: secret },
  });
}
