export { createModuleGate, type ModuleGateOptions } from "./gate.ts";
export { createAnswerHook, type AnswerHookDeps } from "./after-answer.ts";
export { runSessionEndModules, type EndedSession } from "./session-end.ts";
export { loadModuleLayers, resolveLayers, resolveSessionModules, type ModuleLayerSource } from "./config.ts";
export { persistFindings, publishFindings, type FindingTarget } from "./findings.ts";
export type { FinishedAnswer, GateDecision, StudentMessageGate } from "./hooks.ts";
