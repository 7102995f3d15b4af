import { ActorCache } from "../services/realtime/actor-cache.ts";
import type { AppDeps } from "../deps.ts";
import { AuditBatch } from "../services/audit/batch.ts";
import { GenerationRunner, type RunnerDeps } from "../services/live/generation-runner.ts";
import type { StudentMessageGate } from "../services/modules/hooks.ts";
import { RealtimeHub } from "./hub.ts";
import type { ConnectionData, TopicPublisher } from "./socket.ts";

/** Upgrades a request to a WebSocket carrying `data`; provided by the server binding (Bun). */
export type Upgrader = (request: Request, data: ConnectionData) => boolean;

/**
 * The live path's per-instance state: the generation runner and the socket hub (the sweeper is a
 * job: see jobs/sweeper.ts).
 * Created by `createApp`; the Bun binding attaches the upgrader once a server exists.
 */
export interface RealtimeRuntime {
  runner: GenerationRunner;
  hub: RealtimeHub;
  /** Actors for connection setup (tickets, socket open), dropped on revocations. */
  actors: ActorCache;
  upgrade: Upgrader;
  setUpgrader(upgrader: Upgrader): void;
  /** Where room frames fan out to local sockets: the server's topics (Bun's `server.publish`). */
  setPublisher(publisher: TopicPublisher): void;
  /** Stops timers, closes sockets with 4012, lets answers finish for `graceMs`, then interrupts them. */
  shutdown(graceMs?: number): Promise<void>;
}

export function createRealtimeRuntime(deps: AppDeps, gate?: StudentMessageGate, hooks: Pick<RunnerDeps, "onAnswerFinished"> = {}): RealtimeRuntime {
  const runner = new GenerationRunner({
    // The system scope (row-level security): answers outlive the request that authorised them.
    db: deps.db.db,
    bus: deps.bus,
    kv: deps.kv,
    logger: deps.logger,
    clock: deps.clock,
    metrics: deps.metrics,
    live: deps.config.live,
    instanceId: deps.config.instanceId,
    onAnswerFinished: hooks.onAnswerFinished,
  });
  const actors = new ActorCache({ bus: deps.bus, logger: deps.logger }, deps.config.live.accessCacheMs);
  // The system scope: one batch carries the views of many people.
  const viewAudit = new AuditBatch({ db: deps.db.db, logger: deps.logger, clock: deps.clock }, deps.config.live.viewAuditFlushMs);
  const hub = new RealtimeHub(deps, runner, gate, { actors, viewAudit });
  let upgrader: Upgrader | null = null;
  return {
    runner,
    hub,
    actors,
    upgrade: (request, data) => (upgrader ? upgrader(request, data) : false),
    setUpgrader(u) {
      upgrader = u;
    },
    setPublisher(publisher) {
      hub.setPublisher(publisher);
    },
    async shutdown(graceMs = 10_000) {
      await hub.shutdown();
      await runner.shutdown(graceMs);
      await viewAudit.close();
      await actors.close();
    },
  };
}
