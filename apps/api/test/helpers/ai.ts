import { aiModels, aiSettings, type DbHandle, type DbOrTx } from "@raptscallions/db";
import {
  createDevModelApp,
  createGatewayClient,
  MemoryLimitStore,
  type DevModelId,
  type DevStreamEnd,
  type GatewayClient,
  type LimitStore,
} from "@raptscallions/gateway";
import { makeSchoolScene, makeTool, type SchoolScene } from "@raptscallions/db/testing";
import { Hono } from "hono";
import { systemClock, type Clock } from "../../src/lib/clock.ts";
import { createMemoryLogger, type Logger } from "../../src/lib/logger.ts";
import type { Metrics } from "../../src/lib/metrics.ts";
import { createAiService } from "../../src/services/ai/create-ai-service.ts";
import type { AiService } from "../../src/lib/ai-service.ts";

/** An AiService wired to an in-process dev model, and the parts a test may want to look at. */
export interface TestAi {
  ai: AiService;
  limits: LimitStore;
  client: GatewayClient;
  devApp: Hono;
  /** How each dev-model stream ended (complete / length / failed / aborted), in order. */
  streamEnds: DevStreamEnd[];
}

/**
 * The real AiService (settings chain from `db`, limits, ai_usage rows) talking to the built-in dev
 * model over `fetch` semantics without a socket. Defaults: a fresh MemoryLimitStore, unpaced dev
 * model (pace per model with {@link makeDevModel}), AI_DEFAULT_MODEL `dev-tutor`.
 */
export function createTestAiService(
  db: DbHandle | DbOrTx,
  opts: {
    limits?: LimitStore;
    defaultModel?: string;
    /** Default dev-model pace for ids without an `@<n>tps` suffix (0 = unpaced). */
    tokensPerSecond?: number;
    clock?: Clock;
    logger?: Logger;
    metrics?: Pick<Metrics, "gatewayCalls">;
    firstTokenTimeoutMs?: number;
    idleTimeoutMs?: number;
    maxRetries?: number;
  } = {},
): TestAi {
  const streamEnds: DevStreamEnd[] = [];
  // Mounted at /v1 like the app's embedded dev model, so URLs are the same as over HTTP.
  const devApp = new Hono().route("/v1", createDevModelApp({ tokensPerSecond: opts.tokensPerSecond ?? 0, onStreamEnd: (e) => streamEnds.push(e) }));
  const client = createGatewayClient({
    baseUrl: "http://dev-model.test/v1",
    fetch: (url, init) => Promise.resolve(devApp.request(url, init)),
    firstTokenTimeoutMs: opts.firstTokenTimeoutMs ?? 10_000,
    idleTimeoutMs: opts.idleTimeoutMs ?? 10_000,
    maxRetries: opts.maxRetries ?? 1,
    retryBaseMs: 5,
    random: () => 0,
  });
  const limits = opts.limits ?? new MemoryLimitStore();
  const ai = createAiService({
    db: "db" in db && "driver" in db ? db.db : db,
    client,
    limits,
    defaultModel: opts.defaultModel ?? "dev-tutor",
    clock: opts.clock ?? systemClock,
    logger: opts.logger ?? createMemoryLogger(),
    metrics: opts.metrics,
  });
  return { ai, limits, client, devApp, streamEnds };
}

let devModelCounter = 0;

/**
 * A catalogue row the dev model answers to, with a unique id, so tests never depend on (or
 * disturb) shared rows such as `dev-tutor`: `<behaviour>@<pace>.<unique>tps` — the dev model
 * reads the suffix as its pace. `tokensPerSecond: 0` (default) means effectively unpaced.
 */
export async function makeDevModel(db: DbOrTx, opts: { behaviour?: DevModelId; tokensPerSecond?: number } & Partial<typeof aiModels.$inferInsert> = {}) {
  const { behaviour = "dev-tutor", tokensPerSecond = 0, ...over } = opts;
  devModelCounter += 1;
  const unique = `${devModelCounter}${Math.floor(Math.random() * 1e9)}`;
  const pace = tokensPerSecond > 0 ? Math.floor(tokensPerSecond) : 1_000_000;
  const [row] = await db
    .insert(aiModels)
    .values({
      id: `${behaviour}@${pace}.${unique}tps`,
      provider: "dev",
      displayName: `Dev ${behaviour} (test)`,
      inputPricePer1k: 0.001,
      outputPricePer1k: 0.002,
      contextWindow: 16_384,
      maxOutputTokens: 512,
      ...over,
    })
    .returning();
  if (!row) throw new Error("makeDevModel: insert returned no row");
  return row;
}

/**
 * Makes `groupId` (usually the scene's district) resolve to a fresh dev model with generous
 * per-user limits, overriding whatever the shared system settings say (nearest setting wins).
 * This is what live-path tests should call once per scene.
 */
export async function pinDevModel(
  db: DbOrTx,
  groupId: string,
  opts: { model?: Parameters<typeof makeDevModel>[1]; settings?: Partial<typeof aiSettings.$inferInsert> } = {},
) {
  const model = await makeDevModel(db, opts.model);
  const values = {
    defaultModel: model.id,
    requestsPerMinute: 10_000,
    requestsPerHour: 100_000,
    tokensPerDay: 1_000_000_000,
    monthlyBudgetUsd: null,
    ...opts.settings,
  };
  await db
    .insert(aiSettings)
    .values({ groupId, ...values })
    .onConflictDoUpdate({ target: aiSettings.groupId, set: values });
  return model;
}

type ToolDefinitionInput = NonNullable<NonNullable<Parameters<typeof makeTool>[2]>["definition"]>;

/**
 * A school scene with a product tool in the school, made by the scene's teacher, on `model` (the
 * dev tutor by default): the form and prompt template are the suite's.
 */
export async function productToolScene(db: DbOrTx, definition: ToolDefinitionInput): Promise<{ scene: SchoolScene; toolId: string }> {
  const scene = await makeSchoolScene(db);
  const tool = await makeTool(db, scene.school.id, { kind: "product", createdBy: scene.teacher.id, definition: { model: "dev-tutor", ...definition } });
  return { scene, toolId: tool.id };
}
