import { redactPii } from "@raptscallions/modules";

/** What stands in for an erased person's identifiers wherever they were written down. */
export const ERASED_MARK = "[erased]";

/** The identifiers of a person that erasure removes from free text and records. */
export interface Identity {
  id: string;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  /** Exact strings: email, Clerk id, SIS id, roster sourcedIds, image URL. */
  literals: string[];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Removes a person from text: the PII module's redaction (emails, phones, addresses, the student's
 * own name as the chat path recognises it), then every literal identifier and name part, matched
 * case-blind on word boundaries (the module leaves names that are also everyday words; erasure
 * may not). Returns the text unchanged when there was nothing to remove.
 */
export function identityRedactor(who: Identity, now: Date): { text(value: string): string; literal(value: string): string; json<T>(value: T): T } {
  const words = [who.name, who.givenName, who.familyName, ...who.literals].filter((w): w is string => typeof w === "string" && w.trim().length >= 2);
  // Longest first, so "Ann Lee" is removed whole before "Ann".
  const pattern =
    words.length === 0
      ? null
      : new RegExp(
          `(?<![\\p{L}\\p{N}])(?:${[...new Set(words)]
            .sort((a, b) => b.length - a.length)
            .map(escapeRegExp)
            .join("|")})(?![\\p{L}\\p{N}])`,
          "giu",
        );
  const literal = (value: string) => (pattern ? value.replace(pattern, ERASED_MARK) : value);
  const student = { id: who.id, displayName: who.name ?? undefined, givenName: who.givenName ?? undefined, familyName: who.familyName ?? undefined };
  const text = (value: string) => (value === "" ? value : literal(redactPii(value, { student, now }).text));
  const json = <T>(value: T): T => mapStrings(value, text) as T;
  return { text, literal, json };
}

/** Every string in a JSON value, keys kept. */
export function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === "string") return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}
