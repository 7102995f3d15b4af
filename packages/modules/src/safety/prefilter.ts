/**
 * Which rules can match a text at all, decided without running them. Each rule's pattern is read
 * once for the literal strings a match must contain (one of a set: "die" or "kill" for
 * `\b(?:want to die|kill myself)\b`); a rule whose strings all miss the text cannot match it, so
 * its RegExp is not run. Most messages are homework, and most of the ~100 rules have no literal
 * anywhere in them.
 *
 * The pattern is parsed by @eslint-community/regexpp (ESLint's ECMAScript RegExp parser), so
 * escapes, groups and quantifiers are read as the engine reads them; this file only walks the tree.
 * Sound by construction rather than by tuning: a flag other than `g`, a group with modifiers
 * (`(?i:…)`), a node this walk does not know or a pattern the parser refuses makes the rule
 * "always run", and only characters that the pattern matches literally are ever required (a
 * class, a set such as `\w` or `.`, a back-reference requires nothing). Which literal of a
 * sequence is chosen changes the cost, never the answer. test/safety-prefilter.test.ts checks the
 * property itself (every match contains one of its rule's literals) over the data sets' texts.
 */
import { type AST, RegExpParser } from "@eslint-community/regexpp";

/** A rule's requirement: a match contains at least one of these strings; `null` = no requirement known. */
export type Required = readonly string[] | null;

interface Parsed {
  /** Strings one of which every match of this piece contains (null: none known). */
  req: Required;
  /** The piece matches exactly this string (so neighbours can join it into a longer one). */
  literal: string | null;
}

const NOTHING: Parsed = { req: null, literal: null };
// Zero-width: it adds nothing to the match, so the literals on either side of it still touch.
const EMPTY: Parsed = { req: null, literal: "" };

// Scores a requirement: the shortest string is what a text must hold, so longer is rarer.
function strength(req: Required): number {
  if (req === null || req.length === 0) return 0;
  let min = Number.POSITIVE_INFINITY;
  for (const s of req) min = Math.min(min, s.length);
  return min * 64 - req.length;
}

function better(a: Required, b: Required): Required {
  return strength(b) > strength(a) ? b : a;
}

/** A match of one of `branches` contains one of the union of their requirements, if each has one. */
function alternatives(branches: readonly AST.Alternative[]): Parsed {
  if (branches.length === 1) return sequence(branches[0] as AST.Alternative);
  const all = new Set<string>();
  for (const branch of branches) {
    const b = sequence(branch);
    if (b.req === null || b.req.length === 0) return NOTHING;
    for (const s of b.req) all.add(s);
  }
  return { req: [...all], literal: null };
}

function sequence(alt: AST.Alternative): Parsed {
  let best: Required = null;
  let run = "";
  let allLiteral = true;
  const endRun = () => {
    if (run.length > 0) best = better(best, [run]);
    run = "";
  };
  for (const element of alt.elements) {
    const quantified = element.type === "Quantifier";
    const min = quantified ? element.min : 1;
    if (min === 0) {
      allLiteral = false;
      endRun();
      continue;
    }
    const piece = atom(quantified ? element.element : element);
    if (piece.literal !== null && !quantified) {
      run += piece.literal;
      continue;
    }
    allLiteral = false;
    if (piece.literal !== null) {
      // "a+" or "a{2,}": at least one copy is there, joined to what came before it.
      run += piece.literal;
      endRun();
      continue;
    }
    endRun();
    best = better(best, piece.req);
  }
  const whole = allLiteral && alt.elements.length > 0 ? run : null;
  endRun();
  return { req: best, literal: whole };
}

function atom(node: AST.Element): Parsed {
  switch (node.type) {
    case "Character":
      return { req: [String.fromCodePoint(node.value)], literal: String.fromCodePoint(node.value) };
    case "Group":
      // `(?i:…)` changes how its letters match: not read.
      if (node.modifiers !== null) throw new Error("group with modifiers");
      return alternatives(node.alternatives);
    case "CapturingGroup":
      return alternatives(node.alternatives);
    // `^`, `$`, `\b` and lookarounds: a lookaround's text is not part of the match (and a
    // negative one is the opposite of a requirement).
    case "Assertion":
      return EMPTY;
    case "CharacterClass":
    case "CharacterSet":
    case "ExpressionCharacterClass":
    case "Backreference":
      return NOTHING;
    default:
      throw new Error(`unread node ${node.type}`);
  }
}

const parser = new RegExpParser();

/** The strings one of which every match of `pattern` contains, or null when that cannot be said. */
export function requiredLiterals(pattern: RegExp): Required {
  if (pattern.flags.replace("g", "") !== "") return null;
  try {
    const parsed = alternatives(parser.parsePattern(pattern.source, 0, pattern.source.length, { unicode: false }).alternatives);
    // A one-character requirement filters almost nothing; not worth a look-up.
    return parsed.req?.every((s) => s.length >= 2) ? parsed.req : null;
  } catch {
    return null;
  }
}

// Literals are filed under the hash of their first two characters; a text looks up only the
// buckets of the pairs it holds, so a rule's literals cost nothing unless their opening pair is
// there, and only then is the text searched for the whole literal.
const BUCKETS = 4096;
const pairHash = (a: number, b: number): number => (a * 31 + b) & (BUCKETS - 1);

/** The rules' requirements compiled for one rule list (compiled once per list). */
export interface RulePrefilter {
  /** Rules with no requirement known: they always run. */
  readonly always: readonly number[];
  /** Per first-pair hash: the literals filed there and the rule each belongs to. */
  readonly buckets: ReadonlyArray<ReadonlyArray<{ text: string; rule: number }> | undefined>;
}

export function compilePrefilter(patterns: readonly RegExp[]): RulePrefilter {
  const always: number[] = [];
  const buckets: Array<Array<{ text: string; rule: number }> | undefined> = new Array(BUCKETS);
  patterns.forEach((p, rule) => {
    const req = requiredLiterals(p);
    if (req === null) {
      always.push(rule);
      return;
    }
    for (const text of req) {
      const h = pairHash(text.charCodeAt(0), text.charCodeAt(1));
      let bucket = buckets[h];
      if (!bucket) {
        bucket = [];
        buckets[h] = bucket;
      }
      bucket.push({ text, rule });
    }
  });
  return { always, buckets };
}

// Which buckets one text has already looked at (a reused table, cleared after each text).
const seen = new Uint8Array(BUCKETS);
const touched: number[] = [];

/** `may[r]` = 1 when rule `r` may match `text`: it has no requirement, or one of its literals is in the text. */
export function markCandidates(prefilter: RulePrefilter, text: string, may: Uint8Array): void {
  for (const r of prefilter.always) may[r] = 1;
  for (let k = 0; k + 1 < text.length; k++) {
    const h = pairHash(text.charCodeAt(k), text.charCodeAt(k + 1));
    if (seen[h] === 1) continue;
    seen[h] = 1;
    touched.push(h);
    const bucket = prefilter.buckets[h];
    if (!bucket) continue;
    for (const lit of bucket) if (may[lit.rule] === 0 && text.includes(lit.text)) may[lit.rule] = 1;
  }
  for (const h of touched) seen[h] = 0;
  touched.length = 0;
}

const compiled = new WeakMap<readonly { pattern: RegExp }[], RulePrefilter>();

/**
 * For each of `texts`, which of `rules` may match it: `result[t][r]` is 0 only when rule `r`
 * cannot match text `t`. The rules' requirements are compiled once per rule list.
 */
export function candidateRules(rules: readonly { pattern: RegExp }[], texts: readonly string[]): Uint8Array[] {
  let prefilter = compiled.get(rules);
  if (!prefilter) {
    prefilter = compilePrefilter(rules.map((r) => r.pattern));
    compiled.set(rules, prefilter);
  }
  const out: Uint8Array[] = [];
  for (const text of texts) {
    const may = new Uint8Array(rules.length);
    markCandidates(prefilter, text, may);
    out.push(may);
  }
  return out;
}
