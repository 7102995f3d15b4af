import { type ClerkOrganization, isCleanText } from "@raptscallions/core";
import { groupMembers, groups, groupPath } from "@raptscallions/db";
import { and, asc, eq, isNull, ne } from "drizzle-orm";
import { reconcileOrgTree } from "./clerk-tree.ts";
import type { Tx, WebhookContext } from "./context.ts";
import { lockStructure } from "./locks.ts";

/**
 * The `public_metadata` key naming an organisation's parent organisation (a Clerk org id).
 * `parentClerkOrgId` is accepted too; when both are present this one wins.
 */
export const PARENT_ORG_KEY = "parent_org_id";
export const PARENT_ORG_KEY_ALIAS = "parentClerkOrgId";
const GROUP_KINDS = ["district", "school", "department", "organization"] as const;
type GroupKind = (typeof GROUP_KINDS)[number];
const MAX_SLUG = 120;

/** An organisation as of one `updated_at`: from organization.* or embedded in a membership. */
export interface OrgSnapshot {
  clerkOrgId: string;
  name: string;
  slug: string | null;
  parentOrgId: string | null;
  kind: GroupKind;
  version: Date;
}

function metadataString(meta: Record<string, unknown>, key: string): string | null {
  const v = meta[key];
  if (typeof v !== "string") return null;
  const t = v.trim();
  return t.length > 0 && t.length <= 200 && isCleanText(t) ? t : null;
}

/**
 * Metadata is free-form and edited by people: a value of the wrong shape is read as "not set"
 * rather than refusing the event, which would only make Clerk retry it for days.
 */
export function orgSnapshot(o: ClerkOrganization): OrgSnapshot {
  const meta = o.public_metadata ?? {};
  const parent = metadataString(meta, PARENT_ORG_KEY) ?? metadataString(meta, PARENT_ORG_KEY_ALIAS);
  const kind = metadataString(meta, "kind");
  return {
    clerkOrgId: o.id,
    // The schema removed NULs; a name that was nothing else falls back to the id.
    name: o.name || o.id,
    // `~` marks released slugs (releasedSlug), so Clerk's slugs never contain it.
    slug: o.slug?.trim().replaceAll("~", "-") || null,
    parentOrgId: parent === o.id ? null : parent,
    kind: GROUP_KINDS.includes(kind as GroupKind) ? (kind as GroupKind) : "organization",
    version: new Date(o.updated_at),
  };
}

function slugTag(clerkOrgId: string): string {
  return (
    clerkOrgId
      .replace(/^org_/, "")
      .slice(-8)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "") || "org"
  );
}

/**
 * The slug for an organisation's group: Clerk's slug when free, else a deterministic suffix from
 * the org id (`<slug>-<last 8 of id>`, then `-2`, `-3`…). Slugs are unique across all groups,
 * including local ones, and a conflict must never fail the delivery.
 */
export async function chooseSlug(tx: Tx, wanted: string | null, clerkOrgId: string, selfId: string | null) {
  const tag = slugTag(clerkOrgId);
  const base = (wanted ?? `org-${tag}`).slice(0, MAX_SLUG);
  const candidates = [base, `${base}-${tag}`];
  for (let n = 2; n <= 50; n++) candidates.push(`${base}-${tag}-${n}`);
  candidates.push(`${base}-${crypto.randomUUID()}`);
  for (const slug of candidates) {
    const [holder] = await tx.select({ id: groups.id }).from(groups).where(eq(groups.slug, slug));
    if (!holder || holder.id === selfId) return slug;
  }
  // Unreachable: the last candidate is random.
  return `${base}-${crypto.randomUUID()}`;
}

/**
 * The slug a deleted organisation's group holds instead of its own, so the live organisation Clerk
 * gives that slug next gets it in any arrival order. Unique (one per Clerk id), the same in every
 * order, and unlike any slug Clerk or the REST API hands out (they never contain `~`).
 */
export function releasedSlug(clerkOrgId: string): string {
  return `deleted~${clerkOrgId}`;
}

/**
 * `slug` was just given up: hand it to the live Clerk organisation that asked for it and holds a
 * suffixed one instead (the first by Clerk id when several did). Runs under the structure lock.
 */
async function handOverSlug(tx: Tx, slug: string): Promise<void> {
  const [holder] = await tx.select({ id: groups.id }).from(groups).where(eq(groups.slug, slug));
  if (holder) return;
  const [heir] = await tx
    .select({ id: groups.id })
    .from(groups)
    .where(and(eq(groups.clerkSlug, slug), isNull(groups.deletedAt), ne(groups.slug, slug)))
    .orderBy(asc(groups.clerkOrgId))
    .limit(1);
  if (heir) await tx.update(groups).set({ slug }).where(eq(groups.id, heir.id));
}

/**
 * Applies an organisation snapshot if it is newer than what is stored (last writer by
 * `updated_at`). A tombstoned group still takes newer data but stays deleted, with its slug
 * released. Re-evaluates the tree when the wanted parent changed or the group is new.
 * Returns whether anything changed, and the group as it now is.
 *
 * The organisation's entity lock (locks.ts) serialises every writer of its row; the structure
 * lock is taken before the first write only when the tree or the slugs can change.
 */
export async function applyOrgSnapshot(ctx: WebhookContext, tx: Tx, snap: OrgSnapshot): Promise<{ changed: boolean; group: { id: string; deletedAt: Date | null } }> {
  const [existing] = await tx.select().from(groups).where(eq(groups.clerkOrgId, snap.clerkOrgId));
  if (existing?.clerkUpdatedAt && existing.clerkUpdatedAt.getTime() >= snap.version.getTime()) {
    return { changed: false, group: existing };
  }
  const fields = {
    name: snap.name,
    kind: snap.kind,
    clerkParentOrgId: snap.parentOrgId,
    clerkSlug: snap.slug,
    clerkUpdatedAt: snap.version,
  };
  if (!existing) {
    await lockStructure(tx);
    const id = ctx.ids.uuid();
    const slug = await chooseSlug(tx, snap.slug, snap.clerkOrgId, null);
    await tx.insert(groups).values({ id, path: groupPath(id), parentId: null, clerkOrgId: snap.clerkOrgId, slug, ...fields });
    await reconcileOrgTree(tx, snap.clerkOrgId, null);
    return { changed: true, group: { id, deletedAt: null } };
  }
  const parentChanged = existing.clerkParentOrgId !== snap.parentOrgId;
  // A deleted group keeps its released slug (one deleted before slugs were released gets it now).
  const released = releasedSlug(snap.clerkOrgId);
  const slugChanged = existing.deletedAt ? existing.slug !== released : existing.clerkSlug !== snap.slug;
  if (parentChanged || slugChanged) await lockStructure(tx);
  let slug = existing.slug;
  if (slugChanged) slug = existing.deletedAt ? released : await chooseSlug(tx, snap.slug, snap.clerkOrgId, existing.id);
  await tx
    .update(groups)
    .set({ ...fields, slug })
    .where(eq(groups.id, existing.id));
  if (slug !== existing.slug) await handOverSlug(tx, existing.slug);
  if (parentChanged) await reconcileOrgTree(tx, snap.clerkOrgId, existing.clerkParentOrgId);
  return { changed: true, group: existing };
}

/**
 * organization.deleted: a tombstone (classes, sessions and messages reference the group and stay).
 * Its live memberships are tombstoned with the deletion date, and its slug is released and handed
 * to a live organisation that asked for it. An organisation never seen gets a tombstone row, so
 * late snapshots fill in its data but can never make it live. The first deletion applied dates
 * the tombstone.
 */
export async function deleteClerkOrg(ctx: WebhookContext, tx: Tx, deleted: { id: string; slug?: string | null | undefined }, at: Date): Promise<boolean> {
  const [existing] = await tx.select({ id: groups.id, slug: groups.slug, deletedAt: groups.deletedAt }).from(groups).where(eq(groups.clerkOrgId, deleted.id));
  if (existing?.deletedAt) return false;
  await lockStructure(tx);
  const slug = releasedSlug(deleted.id);
  if (existing) {
    await tx.update(groups).set({ deletedAt: at, slug }).where(eq(groups.id, existing.id));
    // Memberships already tombstoned by their own delete (or their user's) keep that date.
    await tx
      .update(groupMembers)
      .set({ deletedAt: at })
      .where(and(eq(groupMembers.groupId, existing.id), isNull(groupMembers.deletedAt)));
    await handOverSlug(tx, existing.slug);
    return true;
  }
  const wantedSlug = deleted.slug?.trim() || null;
  const id = ctx.ids.uuid();
  await tx.insert(groups).values({
    id,
    path: groupPath(id),
    parentId: null,
    name: wantedSlug ?? deleted.id,
    slug,
    clerkSlug: wantedSlug,
    clerkOrgId: deleted.id,
    deletedAt: at,
  });
  // Organisations that named this one as parent can hang under its tombstone now.
  await reconcileOrgTree(tx, deleted.id, null);
  return true;
}
