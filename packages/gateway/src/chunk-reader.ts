import { parseChunk, type ParsedChunk } from "./upstream.ts";

/**
 * Reads the `data:` lines of one upstream answer, parsing the common content chunk without a full
 * `JSON.parse`. An OpenAI-style stream repeats the same chunk for every token with only the delta's
 * text changed (`id`, `created`, `model`, `index` and `finish_reason: null` stay put), so the text
 * around that one string literal is learnt from the first content chunk and, for the chunks that
 * match it byte for byte, only the literal is decoded.
 *
 * Exact, not a guess: the template is adopted only after a probe — the learnt chunk with its
 * content literal swapped for a sentinel — parses to that sentinel with everything else unchanged,
 * which proves the literal's place is `choices[0].delta.content` (not another field, nor a
 * duplicate key that loses). A chunk of the form prefix + `"…"` + suffix whose middle is a valid
 * JSON string literal is then the same JSON value with another content, by the grammar alone;
 * anything else (a literal that does not parse, a different prefix or suffix, an error, usage or
 * finish chunk) takes the full parse, which also reports malformed chunks as before.
 */
export class ChunkReader {
  readonly #model: string;
  // The learnt chunk's text up to and including the content literal's opening quote, and from its
  // closing quote to the end, and the model it names; the prefix is null until a chunk was learnt.
  #prefix: string | null = null;
  #suffix = "";
  #learntModel: string | null = null;
  #tries = 0;

  constructor(model: string) {
    this.#model = model;
  }

  /** Whether a content chunk was learnt, so matching chunks skip the full parse. */
  get templated(): boolean {
    return this.#prefix !== null;
  }

  /** Interprets one `data:` line's JSON; throws as {@link parseChunk} does. */
  read(data: string): ParsedChunk {
    const prefix = this.#prefix;
    if (prefix !== null) {
      const suffix = this.#suffix;
      if (data.length >= prefix.length + suffix.length && data.startsWith(prefix) && data.endsWith(suffix)) {
        const text = decodeLiteral(data.slice(prefix.length, data.length - suffix.length));
        if (text !== null) return { content: text === "" ? null : text, finishReason: null, usage: null, model: this.#learntModel };
      }
    }
    const parsed = parseChunk(data, this.#model);
    // A few tries: the first content chunk may differ from the rest (a role beside the content).
    if (parsed.content !== null && parsed.finishReason === null && parsed.usage === null && this.#tries < LEARN_TRIES) {
      this.#tries++;
      this.#learn(data, parsed);
    }
    return parsed;
  }

  #learn(data: string, parsed: ParsedChunk): void {
    const key = data.lastIndexOf('"content"');
    if (key < 0) return;
    let open = key + '"content"'.length;
    while (isSpace(data.charCodeAt(open))) open++;
    if (data.charCodeAt(open) !== 0x3a /* : */) return;
    open++;
    while (isSpace(data.charCodeAt(open))) open++;
    if (data.charCodeAt(open) !== 0x22 /* " */) return;
    const close = closingQuote(data, open + 1);
    if (close < 0) return;
    const prefix = data.slice(0, open + 1);
    const suffix = data.slice(close);
    let probe: ParsedChunk;
    try {
      probe = parseChunk(prefix + PROBE_INSIDE + suffix, this.#model);
    } catch {
      return;
    }
    if (probe.content !== PROBE || probe.finishReason !== null || probe.usage !== null || probe.model !== parsed.model) return;
    this.#prefix = prefix;
    this.#suffix = suffix;
    this.#learntModel = parsed.model;
  }
}

/** Content chunks the reader learns from at most, per answer. */
const LEARN_TRIES = 3;

// A content no model sends, so finding it in the probe's parse proves where the literal sits.
const PROBE = "\u0000rapt-probe\u0000";
const PROBE_INSIDE = JSON.stringify(PROBE).slice(1, -1);

// Characters a JSON string literal can only carry escaped (or, for a quote, as its end).
const NEEDS_DECODING = /["\\\u0000-\u001f]/;

/** The string a literal's inside stands for, or null when `"inside"` is not one JSON string literal. */
function decodeLiteral(inside: string): string | null {
  if (!NEEDS_DECODING.test(inside)) return inside;
  try {
    const value: unknown = JSON.parse(`"${inside}"`);
    return typeof value === "string" ? value : null;
  } catch {
    return null;
  }
}

/** Index of the quote that ends the string literal whose text starts at `from`, or -1. */
function closingQuote(data: string, from: number): number {
  for (let i = from; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x5c /* \ */) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
