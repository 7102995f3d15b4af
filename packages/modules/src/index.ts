export {
  SEVERITIES,
  atLeast,
  severityRank,
  type BeforeGatewayResult,
  type ContentModule,
  type Finding,
  type GatewayAction,
  type HistoryMessage,
  type ModuleContext,
  type ResolvedModuleConfig,
  type ResolvedModuleConfigs,
  type Severity,
  type StudentInfo,
  type TurnContext,
} from "./types.ts";
export { resolveModuleConfig, validateModuleConfigLayer, type ModuleConfigLayer } from "./config.ts";
export {
  MODULE_ORDER,
  orderModules,
  runAfterAnswer,
  runBeforeGateway,
  runOnSessionEnd,
  type CombinedBeforeGatewayResult,
} from "./runner.ts";
export { builtInModules, getModule } from "./registry.ts";
export {
  PII_FILTER_ID,
  PII_TOKENS,
  piiConfigSchema,
  piiFilter,
  redactPii,
  type PiiConfig,
  type PiiRedaction,
} from "./pii/pii-filter.ts";
export { createHistoryRedactor } from "./pii/history-redactor.ts";
export { PII_KINDS, type PiiKind, type PiiSpan } from "./pii/types.ts";
export {
  DEFAULT_BLOCK_REPLY,
  DEFAULT_SELF_HARM_REPLY,
  SAFETY_FILTER_ID,
  assessAnswer,
  assessFastPath,
  assessStudentMessage,
  safetyConfigSchema,
  safetyFilter,
  type FastPathAssessment,
  type SafetyConfig,
} from "./safety/safety-filter.ts";
export {
  CLASSIFIER_CATEGORIES,
  CLASSIFIER_CLASSES,
  PLAUSIBLE_SHARE,
  scoresFrom,
  type ClassifierScores,
  classifyText,
  fromSerialised,
  predictVector,
  toSerialised,
  type ClassifierCategory,
  type ClassifierClass,
  type ClassifierModel,
  type SerialisedModel,
} from "./safety/classifier/model.ts";
export { extractFeatures, type FeatureVector } from "./safety/classifier/features.ts";
export { DEFAULT_TRAIN_OPTIONS, trainClassifier, type TrainOptions, type TrainingExample } from "./safety/classifier/train.ts";
export { DEFAULT_CLASSIFIER_THRESHOLDS, classifierConfigSchema, type ClassifierConfig } from "./safety/classifier/config.ts";
export { bundledClassifier } from "./safety/classifier/bundled.ts";
export { foldClassifier } from "./safety/classifier/stage.ts";
export { SAFETY_CATEGORIES, type SafetyCategory } from "./safety/rule-types.ts";
export {
  DEFAULT_HOLD_REPLY,
  MODERATION_MODES,
  moderationConfigSchema,
  type ModerationConfig,
  type ModerationMode,
} from "./safety/moderation-config.ts";
export {
  applyModeration,
  categoryScores,
  moderateTurn,
  runModeration,
  type ModerationClassifier,
  type ModerationFailure,
  type ModerationOutcome,
  type ModerationScores,
} from "./safety/moderation.ts";
export type { CategoryAssessment } from "./safety/detect.ts";
export {
  STRUGGLE_DETECTOR_ID,
  scoreStruggle,
  struggleConfigSchema,
  struggleDetector,
  type StruggleConfig,
  type StruggleLevel,
  type StruggleReason,
  type StruggleReasonCode,
  type StruggleSignal,
} from "./struggle/struggle-detector.ts";
export { messageSimilarity } from "./struggle/similarity.ts";
