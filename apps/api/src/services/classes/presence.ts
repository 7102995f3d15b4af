import type { ClassPresence } from "@raptscallions/core";
import type { Presence } from "@raptscallions/bus";
import { assertAllowed, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { classRoom, publishBestEffort } from "../rooms.ts";
import { requireVisibleClass } from "./scope.ts";

/**
 * Who is in a class room now, for a live view that (re)loads over REST: after a `reset` the
 * presence events it missed are gone, so it starts again from this list. The same people may
 * read it as may watch the class room.
 */
export async function listClassPresence({ ctx, input }: { ctx: ServiceContext & { presence: Presence }; input: { id: string } }): Promise<ClassPresence> {
  const found = await requireVisibleClass(ctx, input.id);
  assertAllowed(policy.canManageClass(ctx.actor, { id: found.cls.id, groupPath: found.groupPath }), "Only the class's teachers and admins can see who is in it");
  const room = classRoom(input.id);
  const snapshot = await ctx.presence.list(room);
  // This read pruned them, and each drop-out is reported to exactly one reader: announce it, as the hub would.
  for (const gone of snapshot.expired) {
    await publishBestEffort(ctx.bus, ctx.logger, room, "presence.changed", { userId: gone, online: false, expired: true });
  }
  return { items: snapshot.members.map((m) => ({ userId: m.userId, role: m.role, connections: m.connections })) };
}
