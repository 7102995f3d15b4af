/**
 * Which rules can match a text at all, decided without running them. Each rule's pattern is read
 * once for the literal strings a match must contain (one of a set: "die" or "kill" for
 * `\b(?:want to die|kill myself)\b`); a rule whose strings all miss the text cannot match it, so
 * its RegExp is not run. Most messages are homework, and most of the ~100 rules have no literal
 * anywhere in them.
 *
 * Sound by construction rather than by tuning: anything the reader does not understand (a flag
 * other than `g`, a `\p{…}` or `\u…` escape, a back-reference) makes the rule "always run", and
 * only plain characters that the pattern matches literally are ever required. Which literal of a
 * sequence is chosen changes the cost, never the answer. test/safety-prefilter.test.ts checks the
 * property itself (every match contains one of its rule's literals) over the data sets' texts.
 */

/** A rule's requirement: a match contains at least one of these strings; `null` = no requirement known. */
export type Required = readonly string[] | null;

interface Parsed {
  /** Strings one of which every match of this piece contains (null: none known). */
  req: Required;
  /** The piece is exactly this literal string (so neighbours can join it into a longer one). */
  literal: string | null;
}

const QUANTIFIER = /^\{(\d+)(?:,(\d*))?\}\??/;

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

class Reader {
  i = 0;
  constructor(readonly src: string) {}

  alternation(): Parsed {
    const branches: Parsed[] = [this.sequence()];
    while (this.src[this.i] === "|") {
      this.i++;
      branches.push(this.sequence());
    }
    if (branches.length === 1) return branches[0] as Parsed;
    const all = new Set<string>();
    for (const b of branches) {
      if (b.req === null || b.req.length === 0) return { req: null, literal: null };
      for (const s of b.req) all.add(s);
    }
    return { req: [...all], literal: null };
  }

  sequence(): Parsed {
    let best: Required = null;
    let run = "";
    let pieces = 0;
    let allLiteral = true;
    const endRun = () => {
      if (run.length > 0) best = better(best, [run]);
      run = "";
    };
    while (this.i < this.src.length && this.src[this.i] !== "|" && this.src[this.i] !== ")") {
      const atom = this.atom();
      const { min, none } = this.quantifier();
      pieces++;
      if (min === 0) {
        allLiteral = false;
        endRun();
        continue;
      }
      if (atom.literal !== null && none) {
        run += atom.literal;
        continue;
      }
      allLiteral = false;
      if (atom.literal !== null) {
        // "a+" or "a{2,}": at least one copy is there, joined to what came before it.
        run += atom.literal;
        endRun();
        continue;
      }
      endRun();
      best = better(best, atom.req);
    }
    const whole = allLiteral && pieces > 0 ? run : null;
    endRun();
    return { req: best, literal: whole };
  }

  /** The quantifier after an atom, if any: its least count (`none`: no quantifier, exactly once). */
  quantifier(): { min: number; none: boolean } {
    const c = this.src[this.i];
    if (c === "{") {
      // Not a quantifier's shape: a literal "{", read as the next atom.
      const m = QUANTIFIER.exec(this.src.slice(this.i));
      if (!m) return { min: 1, none: true };
      this.i += m[0].length;
      return { min: Number(m[1]), none: false };
    }
    if (c !== "*" && c !== "?" && c !== "+") return { min: 1, none: true };
    this.i++;
    if (this.src[this.i] === "?") this.i++; // lazy
    return { min: c === "+" ? 1 : 0, none: false };
  }

  atom(): Parsed {
    const c = this.src[this.i] as string;
    if (c === "(") return this.group();
    if (c === "[") return this.charClass();
    if (c === "\\") return this.escape();
    this.i++;
    // Zero-width or any-character pieces require nothing and join nothing.
    if (c === "." || c === "^" || c === "$") return { req: null, literal: null };
    return { req: [c], literal: c };
  }

  group(): Parsed {
    this.i++; // (
    let lookaround = false;
    if (this.src[this.i] === "?") {
      const next = this.src[this.i + 1];
      if (next === ":") this.i += 2;
      else if (next === "=" || next === "!") {
        lookaround = true;
        this.i += 2;
      } else if (next === "<" && (this.src[this.i + 2] === "=" || this.src[this.i + 2] === "!")) {
        lookaround = true;
        this.i += 3;
      } else if (next === "<") {
        const close = this.src.indexOf(">", this.i);
        if (close === -1) throw new Error("unreadable group");
        this.i = close + 1;
      } else throw new Error("unreadable group");
    }
    const inner = this.alternation();
    if (this.src[this.i] !== ")") throw new Error("unbalanced group");
    this.i++;
    // A lookaround's text is not part of the match (and a negative one is the opposite of a requirement).
    if (lookaround) return { req: null, literal: null };
    return inner;
  }

  charClass(): Parsed {
    this.i++; // [
    if (this.src[this.i] === "^") this.i++;
    if (this.src[this.i] === "]") this.i++; // a leading "]" is a member
    while (this.i < this.src.length && this.src[this.i] !== "]") {
      if (this.src[this.i] === "\\") this.i++;
      this.i++;
    }
    if (this.src[this.i] !== "]") throw new Error("unbalanced class");
    this.i++;
    return { req: null, literal: null };
  }

  escape(): Parsed {
    const c = this.src[this.i + 1];
    if (c === undefined) throw new Error("trailing backslash");
    // Letters and digits after a backslash are classes, boundaries, control characters or
    // back-references: none of them is a literal this reader may require.
    if (/[A-Za-z0-9]/.test(c)) {
      if (c === "u" || c === "x" || c === "p" || c === "P" || c === "c" || c === "k" || /[1-9]/.test(c)) throw new Error("unsupported escape");
      this.i += 2;
      return { req: null, literal: null };
    }
    this.i += 2;
    return { req: [c], literal: c };
  }
}

/** The strings one of which every match of `pattern` contains, or null when that cannot be said. */
export function requiredLiterals(pattern: RegExp): Required {
  if (pattern.flags.replace("g", "") !== "") return null;
  try {
    const reader = new Reader(pattern.source);
    const parsed = reader.alternation();
    if (reader.i !== pattern.source.length) return null;
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
