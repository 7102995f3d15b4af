import { groupPath, groups } from "@raptscallions/db";
import { eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "./context.ts";

/**
 * Where a Clerk organisation's group sits is a pure function of the parents the organisations
 * ask for (`groups.clerk_parent_org_id`, from their newest snapshot) and of which organisations
 * are known, so every arrival order ends in the same tree:
 *
 *   parent(X) = group of wanted(X), if that organisation is known and X is not on a cycle of
 *               wanted parents; otherwise X is a root.
 *
 * Dropping every edge of a cycle (rather than the edge that happened to close it) is what keeps
 * the result independent of arrival order. A change to X's wanted parent can only change the
 * answer for X, for organisations on X's old or new chain of wanted parents (cycles through X),
 * and for organisations waiting for X to exist: those are the ones re-evaluated.
 */

const MAX_CHAIN = 10_000;

interface OrgNode {
  id: string;
  clerkOrgId: string;
  wantedParent: string | null;
  parentId: string | null;
}

async function loadByClerkIds(tx: Tx, ids: string[], cache: Map<string, OrgNode | null>) {
  const missing = [...new Set(ids)].filter((id) => !cache.has(id));
  if (missing.length === 0) return;
  const rows = await tx
    .select({ id: groups.id, clerkOrgId: groups.clerkOrgId, wantedParent: groups.clerkParentOrgId, parentId: groups.parentId })
    .from(groups)
    .where(inArray(groups.clerkOrgId, missing));
  for (const id of missing) cache.set(id, null);
  for (const r of rows) if (r.clerkOrgId) cache.set(r.clerkOrgId, { ...r, clerkOrgId: r.clerkOrgId });
}

async function node(tx: Tx, clerkOrgId: string, cache: Map<string, OrgNode | null>) {
  await loadByClerkIds(tx, [clerkOrgId], cache);
  return cache.get(clerkOrgId) ?? null;
}

/** Known organisations reached by following wanted parents from `start` (inclusive). */
async function wantedChain(tx: Tx, start: string | null, cache: Map<string, OrgNode | null>): Promise<string[]> {
  const seen: string[] = [];
  let cur = start;
  while (cur && !seen.includes(cur) && seen.length < MAX_CHAIN) {
    const n = await node(tx, cur, cache);
    if (!n) break;
    seen.push(cur);
    cur = n.wantedParent;
  }
  return seen;
}

/** The group id `clerkOrgId` should hang under, or null for a root (see the module comment). */
async function effectiveParent(tx: Tx, clerkOrgId: string, cache: Map<string, OrgNode | null>): Promise<string | null> {
  const self = await node(tx, clerkOrgId, cache);
  if (!self?.wantedParent) return null;
  const parent = await node(tx, self.wantedParent, cache);
  if (!parent) return null;
  const chain = await wantedChain(tx, self.wantedParent, cache);
  return chain.includes(clerkOrgId) ? null : parent.id;
}

/**
 * Moves a group and its whole subtree (Clerk groups and local ones alike) under `newParentId`,
 * rewriting every descendant's ltree path in one statement. Refuses a move under the group's own
 * subtree, which would corrupt the paths.
 */
export async function moveSubtree(tx: Tx, groupId: string, newParentId: string | null): Promise<boolean> {
  const [moving] = await tx.select({ id: groups.id, path: groups.path }).from(groups).where(eq(groups.id, groupId));
  if (!moving) return false;
  let parentPath: string | null = null;
  if (newParentId) {
    const [parent] = await tx.select({ path: groups.path }).from(groups).where(eq(groups.id, newParentId));
    if (!parent) return false;
    if (parent.path === moving.path || parent.path.startsWith(`${moving.path}.`)) return false;
    parentPath = parent.path;
  }
  const newPath = groupPath(moving.id, parentPath);
  if (newPath !== moving.path) {
    await tx
      .update(groups)
      // subpath(p, nlevel(p)) is an error ("invalid positions"), so the moved group itself is a case apart.
      .set({
        path: sql`case when ${groups.path} = ${moving.path}::ltree then ${newPath}::ltree
          else ${newPath}::ltree || subpath(${groups.path}, nlevel(${moving.path}::ltree)) end`,
      })
      .where(sql`${groups.path} <@ ${moving.path}::ltree`);
  }
  await tx.update(groups).set({ parentId: newParentId }).where(eq(groups.id, groupId));
  return true;
}

/**
 * Re-evaluates where `clerkOrgId` belongs after its wanted parent changed (or it first became
 * known, with `previousWanted` null), and with it every organisation whose place that can change.
 * Returns whether any group moved.
 */
export async function reconcileOrgTree(tx: Tx, clerkOrgId: string, previousWanted: string | null): Promise<boolean> {
  const cache = new Map<string, OrgNode | null>();
  const self = await node(tx, clerkOrgId, cache);
  if (!self) return false;
  const waiting = await tx.select({ clerkOrgId: groups.clerkOrgId }).from(groups).where(eq(groups.clerkParentOrgId, clerkOrgId));
  const affected = new Set<string>([
    clerkOrgId,
    ...(await wantedChain(tx, previousWanted, cache)),
    ...(await wantedChain(tx, self.wantedParent, cache)),
    ...waiting.flatMap((w) => (w.clerkOrgId ? [w.clerkOrgId] : [])),
  ]);
  await loadByClerkIds(tx, [...affected], cache);

  const changes: { id: string; target: string | null }[] = [];
  for (const orgId of [...affected].sort()) {
    const n = cache.get(orgId);
    if (!n) continue;
    const target = await effectiveParent(tx, orgId, cache);
    if (target !== n.parentId) changes.push({ id: n.id, target });
  }
  // Detach every changed group first: the target tree is acyclic and, with all changed edges
  // removed, what remains are target edges only, so attaching in any order never meets a group
  // that is still (wrongly) a descendant of the one being attached.
  for (const c of changes) await moveSubtree(tx, c.id, null);
  for (const c of changes) if (c.target !== null) await moveSubtree(tx, c.id, c.target);
  return changes.length > 0;
}
