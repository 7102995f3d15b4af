import type { DbOrTx } from "@raptscallions/db";
import type { GenerationStatus } from "../../lib/ai-service.ts";
import type { ServiceContext } from "../context.ts";
import type { ExtractionRow } from "../alerts/dto.ts";
import type { InlineFinding } from "./findings.ts";
import type { TurnInputsRow } from "./turn-inputs.ts";

// How the live path calls the content modules. The live path depends on these types and the
// modules implement them (gate.ts, after-answer.ts), so neither folder imports the other's files
// in both directions; app.ts plugs the implementations in, and tests may pass their own.

/** What the gate decided about one student message (see {@link StudentMessageGate}). */
export interface GateDecision {
  stored: string;
  sent: string;
  blockedReply: string | null;
  meta: Record<string, unknown>;
  /**
   * Runs inside the insert's transaction with the new rows' ids: findings commit iff the message
   * does. Absent when there is nothing to store with the message (the turn is then stored in one
   * statement, no transaction).
   */
  persist?(tx: DbOrTx, ids: { messageId: string; answerId: string }): Promise<void>;
  /**
   * Findings the turn's own store statement may insert beside the message (none is an alert, so
   * there are no outbox rows): one statement instead of the transaction, still all or nothing.
   * `stored` hands back their rows and the message's id. `persist` stays the transaction's way.
   */
  inlineFindings?: { values: InlineFinding[]; stored(rows: ExtractionRow[], messageId: string): void } | undefined;
  /** Runs after commit, before any answer starts (publishes alerts); must not throw. */
  notify?(): Promise<void>;
  /** Flags of the reply stored for a withheld turn (default `["blocked"]`); they keep it out of provider history. */
  replyFlags?: string[] | undefined;
  /** What the provider may see of the stored conversation (e.g. originals a school keeps, redacted). */
  toProvider?(history: ProviderMessage[]): ProviderMessage[];
  /**
   * Checks this turn's finished answer with the settings the gate resolved (the runner calls it
   * instead of the app-wide answer hook, which would load them all again). Must not throw.
   */
  afterAnswer?(answer: FinishedAnswer): Promise<void>;
}

type ProviderMessage = { role: "user" | "assistant" | "system"; content: string };

/** Hook the modules plug into: may redact what is stored/sent, or block the turn with a reply. */
export interface StudentMessageGate {
  beforeGateway(input: {
    ctx: ServiceContext;
    sessionId: string;
    classId: string | null;
    groupId: string;
    studentId: string;
    content: string;
    modulesConfig: Record<string, unknown> | undefined;
    /** A retry of a stored message's answer: the message is already in the session's history. */
    alreadyStored?: boolean;
    /** The modules' inputs, read with the session (`turnInputFields`); absent, the gate reads them. */
    turnInputs?: TurnInputsRow | undefined;
  }): Promise<GateDecision>;
}

/** An answer the runner finalised, as the after-answer hook sees it. */
export interface FinishedAnswer {
  sessionId: string;
  classId: string | null;
  messageId: string;
  state: GenerationStatus;
  content: string;
}
