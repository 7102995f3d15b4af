import {
  type CreateRosterConnectionBody,
  NotFoundError,
  type RosterConnectionDto,
  type RosterRunDto,
  type RosterRunLogDto,
  type UpdateRosterConnectionBody,
} from "@raptscallions/core";
import { classes, classMembers, type DbOrTx, groups, rosterConnections, rosterRuns } from "@raptscallions/db";
import { and, desc, eq, inArray } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import type { RosterConfig } from "../../lib/roster-config.ts";
import { encryptSecret } from "../../lib/roster-credentials.ts";
import { recordAudit } from "../audit/record.ts";
import type { ServiceContext } from "../context.ts";
import { requireVisibleGroup } from "../groups/scope.ts";
import { iso } from "../query-helpers.ts";
import type { RosterConnectionRow, RosterRunRow } from "./runs.ts";

export type RosterServiceContext = ServiceContext & { roster: RosterConfig };

export function toRosterRunDto(r: RosterRunRow): RosterRunDto {
  return {
    id: r.id,
    connectionId: r.connectionId,
    trigger: r.trigger,
    status: r.status,
    mode: r.mode === "delta" ? "delta" : "full",
    counts: r.counts,
    rejectedCount: r.rejectedCount,
    error: r.error,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    createdAt: iso(r.createdAt),
  };
}

export function toRosterRunLogDto(r: RosterRunRow): RosterRunLogDto {
  return { ...toRosterRunDto(r), rejected: r.rejected };
}

function toConnectionDto(c: RosterConnectionRow, lastRun: RosterRunRow | undefined): RosterConnectionDto {
  return {
    id: c.id,
    groupId: c.groupId,
    name: c.name,
    kind: c.kind,
    baseUrl: c.baseUrl,
    tokenUrl: c.tokenUrl,
    clientId: c.clientId,
    clientSecret: { set: c.secretCiphertext !== null, last4: c.secretLast4 },
    intervalMinutes: c.intervalMinutes,
    enabled: c.enabled,
    deltaSince: iso(c.deltaSince),
    lastRun: lastRun ? toRosterRunDto(lastRun) : null,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

async function lastRuns(db: DbOrTx, ids: string[]): Promise<Map<string, RosterRunRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([rosterRuns.connectionId])
    .from(rosterRuns)
    .where(inArray(rosterRuns.connectionId, ids))
    .orderBy(rosterRuns.connectionId, desc(rosterRuns.createdAt));
  return new Map(rows.map((r) => [r.connectionId, r]));
}

/** A group the caller administers (404 when they cannot see it, 403 when they only see it). */
async function managedGroup(ctx: ServiceContext, db: DbOrTx, groupId: string) {
  const group = await requireVisibleGroup({ db, actor: ctx.actor }, groupId);
  assertAllowed(policy.canManageGroup(ctx.actor, group), "Only admins of this group may manage its roster connections");
  return group;
}

/** A connection of a group the caller administers; 404 for anyone else. */
export async function managedConnection(ctx: ServiceContext, db: DbOrTx, id: string): Promise<RosterConnectionRow> {
  const [row] = await db
    .select({ connection: rosterConnections, path: groups.path })
    .from(rosterConnections)
    .innerJoin(groups, eq(groups.id, rosterConnections.groupId))
    .where(eq(rosterConnections.id, id));
  if (!row || !policy.canManageGroup(ctx.actor, { id: row.connection.groupId, path: row.path })) throw new NotFoundError("Roster connection");
  return row.connection;
}

export async function createRosterConnection({ ctx, input }: { ctx: RosterServiceContext; input: { groupId: string; body: CreateRosterConnectionBody } }) {
  const { body } = input;
  const secret = body.kind === "oneroster_rest" ? await encryptSecret(await ctx.roster.keyring(), body.clientSecret) : null;
  return ctx.db.transaction(async (tx) => {
    const group = await managedGroup(ctx, tx, input.groupId);
    const [row] = await tx
      .insert(rosterConnections)
      .values({
        groupId: group.id,
        name: body.name,
        kind: body.kind,
        enabled: body.enabled ?? true,
        createdBy: ctx.actor.userId,
        ...(body.kind === "oneroster_rest"
          ? {
              baseUrl: body.baseUrl,
              tokenUrl: body.tokenUrl,
              clientId: body.clientId,
              secretCiphertext: secret?.ciphertext,
              secretKeyId: secret?.keyId,
              secretLast4: secret?.last4,
              intervalMinutes: body.intervalMinutes ?? null,
            }
          : {}),
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    await recordAudit(tx, ctx, {
      action: "roster.connection.create",
      targetType: "roster_connection",
      targetId: row.id,
      groupId: group.id,
      details: { name: row.name, kind: row.kind },
    });
    return toConnectionDto(row, undefined);
  });
}

export async function listRosterConnections({ ctx, input }: { ctx: ServiceContext; input: { groupId: string } }) {
  const group = await managedGroup(ctx, ctx.db, input.groupId);
  const rows = await ctx.db.select().from(rosterConnections).where(eq(rosterConnections.groupId, group.id)).orderBy(rosterConnections.createdAt);
  const last = await lastRuns(
    ctx.db,
    rows.map((r) => r.id),
  );
  return { items: rows.map((r) => toConnectionDto(r, last.get(r.id))) };
}

export async function getRosterConnection({ ctx, input }: { ctx: ServiceContext; input: { id: string } }) {
  const row = await managedConnection(ctx, ctx.db, input.id);
  return toConnectionDto(row, (await lastRuns(ctx.db, [row.id])).get(row.id));
}

export async function updateRosterConnection({ ctx, input }: { ctx: RosterServiceContext; input: { id: string; body: UpdateRosterConnectionBody } }) {
  const { body } = input;
  const secret = body.clientSecret ? await encryptSecret(await ctx.roster.keyring(), body.clientSecret) : null;
  return ctx.db.transaction(async (tx) => {
    const current = await managedConnection(ctx, tx, input.id);
    const rest = current.kind === "oneroster_rest";
    const [row] = await tx
      .update(rosterConnections)
      .set({
        name: body.name,
        enabled: body.enabled,
        ...(rest
          ? {
              baseUrl: body.baseUrl,
              tokenUrl: body.tokenUrl,
              clientId: body.clientId,
              intervalMinutes: body.intervalMinutes,
              ...(secret ? { secretCiphertext: secret.ciphertext, secretKeyId: secret.keyId, secretLast4: secret.last4 } : {}),
            }
          : {}),
      })
      .where(eq(rosterConnections.id, current.id))
      .returning();
    if (!row) throw new NotFoundError("Roster connection");
    const changed = Object.keys(body).filter((k) => k !== "clientSecret");
    await recordAudit(tx, ctx, {
      action: "roster.connection.update",
      targetType: "roster_connection",
      targetId: row.id,
      groupId: row.groupId,
      details: { fields: changed, secretReplaced: secret !== null },
    });
    return toConnectionDto(row, (await lastRuns(tx, [row.id])).get(row.id));
  });
}

/**
 * Deletes a connection, its links and its runs. What it synced stays (classes, members, users,
 * and every learning record); its classes and enrolments just become ordinary, hand-managed ones.
 */
export async function deleteRosterConnection({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const current = await managedConnection(ctx, tx, input.id);
    await tx.update(classes).set({ rosterConnectionId: null }).where(eq(classes.rosterConnectionId, current.id));
    await tx.update(classMembers).set({ rosterConnectionId: null }).where(eq(classMembers.rosterConnectionId, current.id));
    await tx.update(groups).set({ rosterConnectionId: null }).where(eq(groups.rosterConnectionId, current.id));
    await tx.delete(rosterConnections).where(eq(rosterConnections.id, current.id));
    await recordAudit(tx, ctx, {
      action: "roster.connection.delete",
      targetType: "roster_connection",
      targetId: current.id,
      groupId: current.groupId,
      details: { name: current.name },
    });
  });
}

export async function listRosterRuns({ ctx, input }: { ctx: ServiceContext; input: { id: string; limit: number } }) {
  const connection = await managedConnection(ctx, ctx.db, input.id);
  const rows = await ctx.db.select().from(rosterRuns).where(eq(rosterRuns.connectionId, connection.id)).orderBy(desc(rosterRuns.createdAt)).limit(input.limit);
  return { items: rows.map(toRosterRunDto) };
}

export async function getRosterRun({ ctx, input }: { ctx: ServiceContext; input: { id: string; runId: string } }) {
  const connection = await managedConnection(ctx, ctx.db, input.id);
  const [row] = await ctx.db
    .select()
    .from(rosterRuns)
    .where(and(eq(rosterRuns.connectionId, connection.id), eq(rosterRuns.id, input.runId)));
  if (!row) throw new NotFoundError("Roster run");
  return toRosterRunLogDto(row);
}
