import { AppError, ticketResponseSchema } from "@raptscallions/core";
import { Hono } from "hono";
import { z } from "zod";
import { requireUserCached } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute } from "../../openapi/index.ts";
import type { RealtimeRuntime } from "../../realtime/runtime.ts";
import { issueTicket, redeemTicket } from "../../services/realtime/tickets.ts";

const tags = ["realtime"];

/**
 * `POST /api/realtime/tickets`: a short-lived single-use ticket for opening `/ws`. The caller's
 * user and roles may come from the runtime's actor cache: a client (re)connecting asks for a
 * ticket and opens the socket within a second, and a reconnect storm asks for thousands at once.
 */
export function ticketRoutes(runtime: RealtimeRuntime) {
  const app = new Hono<AppEnv>();
  app.post(
    "/tickets",
    describeRoute({
      summary: "A single-use ticket for opening the realtime socket",
      description:
        "Open `url` (`/ws?ticket=…`) within seconds; the ticket works once. 503 with Retry-After while the ticket store (Redis) is unreachable: retry with backoff. See docs/protocol.md.",
      tags,
      access: "any signed-in user",
      responses: { 201: { description: "The ticket and the socket URL to open with it", schema: ticketResponseSchema } },
      errors: [503],
    }),
    requireUserCached(runtime.actors),
    async (c) => {
      const deps = c.var.deps;
      const ticket = await issueTicket({ kv: deps.kv, ids: deps.ids, clock: deps.clock, ttlMs: deps.config.live.ticketTtlMs }, c.var.actor);
      return c.json({ ...ticket, url: `/ws?ticket=${encodeURIComponent(ticket.ticket)}` }, 201);
    },
  );
  return app;
}

/**
 * `GET /ws?ticket=…` upgrades to the realtime protocol. Browsers cannot set an Authorization
 * header on a WebSocket and tokens never go in URLs, so the ticket is the credential: single-use
 * (atomic get-and-delete, on Redis across instances) and valid for seconds.
 */
export function websocketRoute(runtime: RealtimeRuntime) {
  const app = new Hono<AppEnv>();
  app.get(
    "/ws",
    describeRoute({
      summary: "The realtime WebSocket (docs/protocol.md)",
      description: "A WebSocket upgrade only (426 otherwise). The ticket from `POST /api/realtime/tickets` is the credential.",
      tags,
      access: "the holder of a valid, unused ticket",
      // Read by the handler itself, so a missing or bad ticket is a 401 TICKET_INVALID, not a 400.
      query: z.object({ ticket: z.string().max(200).describe("From POST /api/realtime/tickets") }),
      responses: { 101: { description: "Switching to the realtime protocol" } },
      errors: [400, 401, 426, 503],
    }),
    async (c) => {
      if ((c.req.header("upgrade") ?? "").toLowerCase() !== "websocket") {
        throw new AppError("BAD_REQUEST", "Expected a WebSocket upgrade", { status: 426 });
      }
      const raw = c.req.query("ticket");
      if (!raw || raw.length > 200) throw new AppError("TICKET_INVALID", "A ticket from POST /api/realtime/tickets is required");
      const deps = c.var.deps;
      // The system scope: redeeming resolves who the person is, before their reach is known.
      const claim = await redeemTicket({ kv: deps.kv, db: deps.db.db, actors: runtime.actors }, raw);
      if (!claim) throw new AppError("TICKET_INVALID", "The ticket is unknown, used or expired, or its user is no longer active");
      const ok = runtime.upgrade(c.req.raw, { userId: claim.userId, activeGroupId: claim.activeGroupId });
      if (!ok) throw new AppError("BAD_REQUEST", "WebSocket upgrade failed");
      return new Response(null);
    },
  );
  return app;
}
