import type { z } from "zod";

/** Severity of a finding, lowest first. Matches the `extractions.severity` column. */
export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Numeric rank of a severity, for comparisons (`info` = 0 … `critical` = 4). */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** True when `a` is at least as severe as `b`. */
export function atLeast(a: Severity, b: Severity): boolean {
  return severityRank(a) >= severityRank(b);
}

/**
 * One thing a module noticed. The caller persists it as an `extractions` row
 * (module, kind, severity, data, isAlert) and publishes alerts to teachers.
 * `message` is teacher-facing and never contains raw PII; `data` may hold offsets and rule ids.
 */
export interface Finding {
  module: string;
  kind: string;
  severity: Severity;
  isAlert: boolean;
  message: string;
  data: Record<string, unknown>;
}

/** The student who wrote the message. Names feed the PII filter's own-name redaction. */
export interface StudentInfo {
  id: string;
  displayName?: string | undefined;
  givenName?: string | undefined;
  familyName?: string | undefined;
}

/** A previous student message in this session, oldest first. */
export interface HistoryMessage {
  text: string;
  at: Date;
}

/**
 * What the caller knows about the turn. `recentStudentMessages` are the student's earlier
 * messages in this session (oldest first, NOT including the message being checked); the
 * struggle detector needs their timestamps. Twenty or so is plenty.
 */
export interface TurnContext {
  sessionId?: string | undefined;
  student: StudentInfo;
  recentStudentMessages: HistoryMessage[];
  now: Date;
}

/** What a hook sees: the turn context plus the module's own resolved config. */
export interface ModuleContext<C> extends TurnContext {
  config: C;
}

export type GatewayAction = "allow" | "redact" | "block";

/** A module's verdict on a student message before it reaches the AI provider. */
export interface BeforeGatewayResult {
  action: GatewayAction;
  /** The text to pass on (possibly redacted). */
  text: string;
  findings: Finding[];
  /** For `block`: the caring reply to show the student instead of an AI answer. */
  reply?: string | undefined;
  /**
   * For redacting modules: whether the school stores the original text (true) or the
   * redacted one (false). Absent when the module has no opinion.
   */
  storeOriginal?: boolean | undefined;
}

/**
 * A content module. `configSchema` must accept `{}` and fill in defaults. Hooks are methods
 * (not function-typed properties) on purpose: method parameters are checked bivariantly, which
 * lets modules with different config types live in one `ContentModule[]`.
 */
export interface ContentModule<S extends z.ZodType = z.ZodType> {
  id: string;
  /** Teacher/admin-facing one-liner. */
  description: string;
  configSchema: S;
  /**
   * Array-valued config keys that accumulate across layers instead of being replaced
   * (e.g. the safety escalation list: a tool cannot drop the district's safeguarding lead).
   */
  unionKeys?: readonly string[];
  beforeGateway?(ctx: ModuleContext<z.output<S>>, text: string): BeforeGatewayResult;
  afterAnswer?(ctx: ModuleContext<z.output<S>>, text: string): Finding[];
  onSessionEnd?(ctx: ModuleContext<z.output<S>>): Finding[];
}

/** One module's resolved config: whether it runs, and its validated settings. */
export interface ResolvedModuleConfig<C = unknown> {
  enabled: boolean;
  config: C;
}

/** Resolved configs keyed by module id. */
export type ResolvedModuleConfigs = Record<string, ResolvedModuleConfig>;
