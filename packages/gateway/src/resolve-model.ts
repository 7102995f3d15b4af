import { AppError } from "@raptscallions/core";

/** Where a resolved model id came from. */
export type ModelSource = { level: "tool" } | { level: "group" /** 0 = the nearest group, 1 its parent, … */; depth: number } | { level: "system" } | { level: "env" };

/** Inputs of {@link resolveModel}; plain values so the caller decides how to load them. */
export interface ResolveModelInput {
  /** The tool's own model, if the tool pins one. */
  toolModel?: string | null;
  /** Default model of each group from the nearest group up to the root; `null` where unset. */
  groupChainDefaults: readonly (string | null | undefined)[];
  /** System-wide default set by a system admin, if any. */
  systemDefault?: string | null;
  /** Deployment default from the environment (always present). */
  envDefault: string;
  /** Known models by id. Unknown or inactive models are refused, never silently replaced. */
  catalogue: ReadonlyMap<string, { active: boolean }>;
}

/** A resolved model and the level that chose it. */
export interface ModelChoice {
  model: string;
  source: ModelSource;
}

function isSet(value: string | null | undefined): value is string {
  return typeof value === "string" && value.trim() !== "";
}

/**
 * Picks the model for a call: tool → nearest group up the tree → system → environment default,
 * the first level that names one. The chosen model must be in the catalogue and active; otherwise
 * this throws `MODEL_UNAVAILABLE` rather than falling through to a lower level, because someone
 * deliberately chose that model and a silent substitution would hide the misconfiguration.
 */
export function resolveModelChoice(input: ResolveModelInput): ModelChoice {
  let choice: ModelChoice;
  if (isSet(input.toolModel)) {
    choice = { model: input.toolModel, source: { level: "tool" } };
  } else {
    const depth = input.groupChainDefaults.findIndex(isSet);
    const fromGroup = depth >= 0 ? input.groupChainDefaults[depth] : undefined;
    if (isSet(fromGroup)) choice = { model: fromGroup, source: { level: "group", depth } };
    else if (isSet(input.systemDefault)) choice = { model: input.systemDefault, source: { level: "system" } };
    else choice = { model: input.envDefault, source: { level: "env" } };
  }

  const entry = input.catalogue.get(choice.model);
  if (!entry?.active) {
    const reason = entry ? "inactive" : "unknown";
    throw new AppError(
      "MODEL_UNAVAILABLE",
      `Model "${choice.model}" (chosen by the ${choice.source.level} setting) is ${reason === "unknown" ? "not in the model catalogue" : "not active"}`,
      { details: { model: choice.model, reason, source: choice.source } },
    );
  }
  return choice;
}

/** {@link resolveModelChoice} returning just the model id. */
export function resolveModel(input: ResolveModelInput): string {
  return resolveModelChoice(input).model;
}
