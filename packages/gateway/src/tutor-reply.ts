/**
 * The dev model's answer: a deterministic, Socratic, tutor-style reply built from the
 * conversation, so a local classroom feels real without any AI provider and tests can predict it.
 */

/** A message as the dev model receives it (content already flattened to text). */
export interface DevMessage {
  role: string;
  content: string;
}

const STOPWORDS = new Set(
  "about above after again also because been before being below between could does doing during each from have having here into itself just more most only other over same should some such than that their them then there these they this those through under until very what when where which while will with would your yours how why who whom can the and for are was were you our out not but has had did".split(
    " ",
  ),
);

/** FNV-1a: a stable hash so the same question always gets the same wording. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Each sentence slot reads its own byte of the hash, so the wordings vary independently. */
function pick<T>(options: readonly [T, ...T[]], seed: number, slot: number): T {
  return options[((seed >>> (slot * 8)) & 0xff) % options.length] ?? options[0];
}

/** The most telling word of a question: the longest word that is not a stopword. */
export function keywordOf(question: string): string | null {
  let best: string | null = null;
  for (const raw of question.toLowerCase().split(/[^\p{L}\p{N}'-]+/u)) {
    const word = raw.replace(/^['-]+|['-]+$/g, "");
    if (word.length < 4 || STOPWORDS.has(word)) continue;
    if (best === null || word.length > best.length) best = word;
  }
  return best;
}

function quoteOf(question: string): string {
  const flat = question.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? `${flat.slice(0, 79).trimEnd()}…` : flat;
}

/** Builds the reply to the last user message of `messages`. */
export function tutorReply(messages: readonly DevMessage[]): string {
  const userTurns = messages.filter((m) => m.role === "user" && m.content.trim() !== "");
  const last = userTurns.at(-1);
  if (!last) {
    return "Hi! I'm your tutor. What are you working on today? Tell me the question and what you have tried so far.";
  }
  const question = last.content;
  const seed = hash(question);
  const topic = keywordOf(question);
  const about = topic ? `"${topic}"` : "this";
  const followUp = userTurns.length > 1;

  const opening = followUp
    ? pick(["Thanks for sharing your thinking.", "Nice, you're making progress.", "Good, let's keep going from there."], seed, 0)
    : pick(
        [`Good question! You asked: "${quoteOf(question)}".`, `Let's work on this together. You asked: "${quoteOf(question)}".`, `Thanks for asking about ${about}.`],
        seed,
        0,
      );
  const approach = pick(
    [
      "Rather than giving you the answer straight away, let's reason it out step by step.",
      `Before I explain, I'd like to see how you are thinking about ${about}.`,
      "A good first move is to break the problem into smaller pieces.",
    ],
    seed,
    1,
  );
  const guiding = pick(
    [
      `What do you already know about ${about}, and how might it help here?`,
      "Which part of this feels most unclear to you right now?",
      "If you had to guess the first step, what would it be, and why?",
    ],
    seed,
    2,
  );
  const closing = pick(
    [
      "Try that, tell me what you get, and I'll help you check it.",
      "Write down your idea, even if you're unsure: mistakes are how we learn.",
      "Take your time, and share your reasoning when you're ready.",
    ],
    seed,
    3,
  );
  return `${opening} ${approach} ${guiding} ${closing}`;
}

/** Splits a reply into the units the dev model streams: each word with its leading space. */
export function streamUnits(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}
