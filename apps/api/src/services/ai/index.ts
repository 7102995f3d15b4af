export { createAiService, type AiServiceOptions } from "./create-ai-service.ts";
export { lazyGatewayClient } from "./lazy-client.ts";
export { loadAiPlan, SYSTEM_BUDGET_ID, type AiPlan, type LoadPlanInput, type ModelInfo } from "./load-plan.ts";
export type * from "../../lib/ai-service.ts";
export { summarizeUsage, USAGE_MAX_BUCKETS } from "./summarize-usage.ts";
export { buildGatewayClient, buildModerationClient, embeddedGatewayUrl, type GatewayConfig } from "./gateway-client.ts";
