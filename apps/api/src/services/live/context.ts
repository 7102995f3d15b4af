import type { Bus } from "@raptscallions/bus";
import type { Context } from "hono";
import type { AppDeps, AppEnv, LiveConfig } from "../../deps.ts";
import type { AiService } from "../../lib/ai-service.ts";
import type { ServiceContext } from "../context.ts";
import { serviceContext } from "../context.ts";
import type { GenerationRunner } from "./generation-runner.ts";

/** A service context for the live path: rooms, the gateway and this instance's generations. */
export interface LiveContext extends ServiceContext {
  bus: Bus;
  ai: AiService;
  runner: GenerationRunner;
  live: LiveConfig;
  instanceId: string;
}

export function liveContextFrom(base: ServiceContext, deps: AppDeps, runner: GenerationRunner): LiveContext {
  return { ...base, bus: deps.bus, ai: deps.ai, runner, live: deps.config.live, instanceId: deps.config.instanceId };
}

export function liveContext(c: Context<AppEnv>, runner: GenerationRunner): LiveContext {
  return liveContextFrom(serviceContext(c), c.var.deps, runner);
}
