/**
 * The live bench's parts beyond fan-out, each on API instances of its own (so one part's state —
 * a killed instance, a counted database connection, a cluster — never leaks into another's
 * figures) and each filling one slot of the aims: the reconnect storm and setup rate (goal 5), the
 * late joiner (goal 6) and the Redis Cluster (goal 7).
 */
import { join } from "node:path";
import { startPgCounter } from "../turn/pg-counter.ts";
import { describeSetup, describeStorm, measureSetups, runStorm, type SetupResult, type StormOptions, type StormResult, stormScene } from "../storm/run.ts";
import { failover, type FailoverRun, startCluster } from "./cluster.ts";
import { appRun, type FanoutOptions } from "./fanout-runs.ts";
import type { ClusterResult, LateJoinerResult, ProfileWindows, ReconnectStormResult } from "./goals.ts";
import { type LateJoinerRun, measureLateJoiner } from "./late-joiner.ts";
import type { RunResult } from "./scenario.ts";
import type { Scene } from "./scene.ts";
import { startApp } from "./targets.ts";

/** What every part needs: where Postgres and Redis are, the seeded scene, and where to write. */
export interface PartContext {
  databaseUrl: string;
  redisUrl: string;
  dataDir: string;
  logDir: string;
  cpuProfDir: string | undefined;
  scene: Scene;
  log: (msg: string) => void;
}

export interface PartOutcome<Slot, Detail> {
  slot: Slot;
  detail: Detail;
  windows: ProfileWindows;
}

/** Goal 5: setups against B, then the storm (A killed). */
export async function stormPart(
  ctx: PartContext,
  opts: StormOptions & { rooms: number; toolId: string },
): Promise<PartOutcome<ReconnectStormResult, { setup: SetupResult | null; storm: StormResult }>> {
  const app = await startApp({
    tag: "storm",
    databaseUrl: ctx.databaseUrl,
    redisUrl: ctx.redisUrl,
    dataDir: ctx.dataDir,
    logDir: ctx.logDir,
    env: { AI_DEV_TOKENS_PER_SECOND: "50" },
    cpuProfDir: ctx.cpuProfDir,
  });
  try {
    const { watchers, rooms } = await stormScene(app, ctx.scene, opts.rooms, opts.watchers, opts.toolId);
    const setup = opts.setups > 0 ? await measureSetups(app, watchers, opts) : null;
    if (setup) ctx.log(describeSetup(setup));
    const storm = await runStorm(app, watchers, rooms.slice(0, opts.streaming), opts, ctx.log);
    ctx.log(describeStorm(storm));
    const b = app.b.child.name;
    return {
      slot: {
        clients: storm.clients,
        caughtUp: storm.caughtUp,
        seconds: storm.allCaughtUpMs / 1000,
        unneededResets: storm.resets,
        gapsAndDuplicates: storm.gaps + storm.duplicates,
        setupsPerSecond: setup ? 1000 / setup.cpuMsPerSetup : Number.NaN,
        ...(setup ? { setupsPerSecondWall: setup.perSecond } : {}),
      },
      detail: { setup, storm },
      windows: {
        storm: { instance: b, fromMs: storm.fromMs, toMs: storm.toMs },
        ...(setup ? { setup: { instance: b, fromMs: setup.fromMs, toMs: setup.toMs } } : {}),
      },
    };
  } finally {
    await app.stop();
  }
}

/** Goal 6: instances whose Postgres connections pass through the wire counter. */
export async function lateJoinerPart(
  ctx: PartContext,
  opts: { messages: number; joiners: number; timeoutMs: number },
): Promise<PartOutcome<LateJoinerResult, Omit<LateJoinerRun, "result">>> {
  const direct = new URL(ctx.databaseUrl);
  const counter = await startPgCounter({ host: direct.hostname, port: Number(direct.port || 5432) });
  const counted = new URL(ctx.databaseUrl);
  counted.port = String(counter.port);
  const app = await startApp({
    tag: "late",
    databaseUrl: counted.toString(),
    redisUrl: ctx.redisUrl,
    dataDir: ctx.dataDir,
    logDir: ctx.logDir,
    env: {},
    cpuProfDir: ctx.cpuProfDir,
  });
  try {
    const run = await measureLateJoiner({ app, counter, directDatabaseUrl: ctx.databaseUrl, scene: ctx.scene, ...opts });
    const r = run.result;
    ctx.log(
      `late joiner: session of ${r.sessionMessages} messages, ${r.joiners} joiners: ${r.rowsRead} message rows read each, ${r.sentMessages} sent, p50 ${r.p50Ms?.toFixed(1)} ms`,
    );
    const { result, ...detail } = run;
    return { slot: result, detail, windows: { "late-joiner": { instance: app.b.child.name, fromMs: run.fromMs, toMs: run.toMs } } };
  } finally {
    await app.stop();
    await counter.close();
  }
}

/** Goal 7: a local cluster, the fan-out run on it, then a primary killed mid-answer. */
export async function clusterPart(
  ctx: PartContext,
  opts: FanoutOptions & { firstPort: number; sessions: number; failoverSessions: number; tokensPerSecond: number; slowToolId: string },
): Promise<PartOutcome<ClusterResult, { run: RunResult; failover: FailoverRun | null }>> {
  const cluster = startCluster(opts.firstPort, join(ctx.logDir, "redis-cluster"));
  ctx.log(`cluster: ${cluster.nodes}`);
  try {
    const app = await startApp({
      tag: "cluster",
      databaseUrl: ctx.databaseUrl,
      redisUrl: "",
      dataDir: ctx.dataDir,
      logDir: ctx.logDir,
      env: { REDIS_CLUSTER_NODES: cluster.nodes, AI_DEV_TOKENS_PER_SECOND: String(opts.tokensPerSecond) },
      cpuProfDir: ctx.cpuProfDir,
    });
    try {
      const scenario = `cluster ${opts.sessions}×${opts.watchers}`;
      const fan = await appRun(app, ctx.scene, scenario, opts.sessions, ctx.scene.toolId, opts);
      const windows: ProfileWindows = {
        "cluster-fanout": { instance: app.b.child.name, fromMs: fan.fromMs, toMs: fan.toMs, spans: [{ fromMs: fan.result.cpuFromMs, toMs: fan.result.cpuToMs }] },
      };
      let fo: FailoverRun | null = null;
      if (opts.failoverSessions > 0) {
        fo = await failover({
          app,
          scene: ctx.scene,
          nodes: cluster.nodes,
          databaseUrl: ctx.databaseUrl,
          sessions: opts.failoverSessions,
          watchers: opts.watchers,
          toolId: opts.slowToolId,
          timeoutMs: opts.timeoutMs,
          log: ctx.log,
        });
        ctx.log(
          `cluster failover: ${fo.answers} answers, ${fo.lostMessages} lost, states ${JSON.stringify(fo.states)}, ${fo.roomsReset} rooms reset (${fo.roomsOnKilledShard} on the killed shard, ${fo.roomsResetElsewhere} reset elsewhere), ${fo.silentGaps} silent gaps, ${fo.reconnected} watchers reconnected, ${fo.unresumed} could not${fo.errors.length ? ` (${fo.errors.join("; ")})` : ""}`,
        );
        windows["cluster-failover"] = { instance: app.a.child.name, fromMs: fo.fromMs, toMs: fo.toMs };
      }
      return {
        slot: {
          primaries: 3,
          replicas: 3,
          scenario,
          p99Ms: fan.result.p99Ms,
          incompleteWatchers: fan.result.incompleteWatchers,
          ...(fo
            ? {
                failover: {
                  answers: fo.answers,
                  lostMessages: fo.lostMessages,
                  roomsReset: fo.roomsReset,
                  roomsOnKilledShard: fo.roomsOnKilledShard,
                  roomsResetElsewhere: fo.roomsResetElsewhere,
                  silentGaps: fo.silentGaps,
                  unresumedWatchers: fo.unresumed,
                },
              }
            : {}),
        },
        detail: { run: fan.result, failover: fo },
        windows,
      };
    } finally {
      await app.stop();
    }
  } finally {
    cluster.stop();
  }
}
