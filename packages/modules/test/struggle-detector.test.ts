import { describe, expect, test } from "bun:test";
import { messageSimilarity, scoreStruggle, struggleConfigSchema, struggleDetector, type HistoryMessage } from "../src/index.ts";
import { NOW, timeline, turn } from "./helpers.ts";

const config = struggleConfigSchema.parse({});
const START = new Date(NOW.getTime() - 60 * 60_000);
const DISTINCT_QUESTIONS = [
  "what is photosynthesis",
  "how many legs does a spider have",
  "explain the water cycle please",
  "who wrote Romeo and Juliet",
  "what causes earthquakes",
  "how do magnets work",
  "why is the sky blue",
  "when did the Romans invade Britain",
];

describe("messageSimilarity", () => {
  test("rephrasings of one question are similar; different questions are not", () => {
    expect(messageSimilarity("how do I find the area of a circle?", "how do i find the area of a circle")).toBe(1);
    expect(messageSimilarity("how do you find the area of a circle", "find area of circle??")).toBeGreaterThanOrEqual(0.6);
    expect(messageSimilarity("what is the area of a circle", "what is the capital of France")).toBeLessThan(0.4);
  });
});

describe("scoreStruggle", () => {
  test("a student working steadily scores none", () => {
    const messages = timeline(START, [
      [0, "can you explain photosynthesis?"],
      [2, "what does chlorophyll do in that process"],
      [4, "ok and where does the oxygen come from"],
      [6, "thanks! now can we do respiration"],
    ]);
    expect(scoreStruggle(messages, config)).toEqual({ score: 0, level: "none", reasons: [] });
  });

  test("one frustration phrase is mild; two are struggling", () => {
    const one = timeline(START, [
      [0, "how do I solve 2x + 3 = 11"],
      [2, "I don't get it"],
    ]);
    expect(scoreStruggle(one, config)).toMatchObject({ level: "mild", score: 0.3 });
    const two = timeline(START, [
      [0, "how do I solve 2x + 3 = 11"],
      [2, "I don't get it"],
      [3, "this is stupid, I give up"],
    ]);
    const signal = scoreStruggle(two, config);
    expect(signal.level).toBe("struggling");
    expect(signal.reasons.map((r) => r.code)).toEqual(["frustration"]);
  });

  test("asking the same question again and again is struggling", () => {
    const messages = timeline(START, [
      [0, "how do I find the area of a circle?"],
      [3, "how do you find the area of a circle"],
      [6, "how do i find the area of a circle"],
    ]);
    const signal = scoreStruggle(messages, config);
    expect(signal.reasons).toEqual([{ code: "repetition", strength: 1, detail: "Asked nearly the same question again twice" }]);
    expect(signal).toMatchObject({ level: "struggling", score: 0.6 });
  });

  test("idle gaps and runs of short turns add up", () => {
    const messages = timeline(START, [
      [0, "what is a prime number"],
      [9, "ok"],
      [10, "?"],
      [20, "hmm"],
      [21, "no"],
    ]);
    const signal = scoreStruggle(messages, config);
    expect(signal.reasons.map((r) => r.code).sort()).toEqual(["frustration", "idle-gaps", "short-turns"]);
    expect(signal.level).toBe("struggling");
  });

  test("only the last windowSize messages count", () => {
    const old = timeline(START, [
      [0, "I don't get it"],
      [1, "I give up"],
    ]);
    const recent = timeline(
      START,
      DISTINCT_QUESTIONS.map((q, i): [number, string] => [i + 2, q]),
    );
    expect(scoreStruggle([...old, ...recent], config).level).toBe("none");
    expect(scoreStruggle([...old, ...recent], struggleConfigSchema.parse({ windowSize: 10 })).level).toBe("struggling");
  });

  test("thresholds are configurable", () => {
    const one = timeline(START, [[0, "I'm confused"]]);
    expect(scoreStruggle(one, struggleConfigSchema.parse({ mildAt: 0.1, strugglingAt: 0.25 })).level).toBe("struggling");
    expect(scoreStruggle(timeline(START, [[0, "bruh moment"]]), struggleConfigSchema.parse({ extraFrustrationPhrases: ["bruh"] })).level).toBe("mild");
  });
});

describe("remembered texts (facts and similarities are kept per process across turns)", () => {
  test("a school's own phrases count for a text first scored under a config without them", () => {
    const text = `meh honestly ${crypto.randomUUID()}`;
    const one = timeline(START, [[0, text]]);
    expect(scoreStruggle(one, config).level).toBe("none");
    expect(scoreStruggle(one, struggleConfigSchema.parse({ extraFrustrationPhrases: ["MEH"] })).level).toBe("mild");
    expect(scoreStruggle(one, config).level).toBe("none");
  });

  test("scoring the same window again, or with a higher threshold, gives what a first scoring gives", () => {
    const words = crypto.randomUUID().slice(0, 8);
    const window = timeline(START, [
      [0, `how do I find the area of a ${words} circle?`],
      [1, `how do i find the area of a ${words} circle`],
    ]);
    const first = scoreStruggle(window, config);
    expect(first.reasons.map((r) => r.code)).toEqual(["repetition"]);
    expect(scoreStruggle(window, config)).toEqual(first);
    // The similarity (1) is remembered; the threshold is applied per call.
    expect(scoreStruggle(window, struggleConfigSchema.parse({ similarityThreshold: 1 })).reasons.map((r) => r.code)).toEqual(["repetition"]);
    const typo = timeline(START, [
      [0, `what is the capital of ${words} france`],
      [1, `what is the captial of ${words} frnace`],
    ]);
    expect(scoreStruggle(typo, config).reasons.map((r) => r.code)).toEqual(["repetition"]);
    expect(scoreStruggle(typo, struggleConfigSchema.parse({ similarityThreshold: 0.95 })).reasons).toEqual([]);
  });

  test("texts too long to remember are scored the same way", () => {
    const long = `i still dont get it ${"and the fractions again ".repeat(60)}`;
    expect(long.length).toBeGreaterThan(1000);
    const signal = scoreStruggle(
      timeline(START, [
        [0, long],
        [1, long],
      ]),
      config,
    );
    expect(signal.reasons.map((r) => r.code).sort()).toEqual(["frustration", "repetition"]);
  });
});

describe("struggle-detector module over a synthetic session", () => {
  // Feeds messages one at a time, as the chat turn would, and collects the findings per turn.
  function run(messages: HistoryMessage[]) {
    const perTurn = messages.map((message, i) => {
      const ctx = { ...turn({ recentStudentMessages: messages.slice(0, i), now: message.at }), config };
      const result = struggleDetector.beforeGateway?.(ctx, message.text);
      expect(result?.action).toBe("allow");
      expect(result?.text).toBe(message.text);
      return result?.findings ?? [];
    });
    return perTurn;
  }

  test("findings only on level changes; alert exactly once when crossing into struggling", () => {
    const session = timeline(START, [
      [0, "how do I find the area of a circle?"],
      [2, "ok thanks"],
      [3, "how do you find the area of a circle"],
      [5, "I don't get it"],
      [6, "how do i find the area of a circle"],
      [7, "???"],
    ]);
    const perTurn = run(session);
    const levels = perTurn.map((f) => f.map((x) => `${x.data.previousLevel}->${x.data.level}${x.isAlert ? "!" : ""}`));
    // One repeat is mild; a repeat plus "I don't get it" is still mild; the second repeat tips it.
    expect(levels).toEqual([[], [], ["none->mild"], [], ["mild->struggling!"], []]);
    const alert = perTurn.flat().find((f) => f.isAlert);
    expect(alert).toMatchObject({ module: "struggle-detector", kind: "struggle", severity: "medium" });
    expect(alert?.message).toContain("Student may be struggling");
    expect(alert?.message).not.toContain("circle");
  });

  test("recovery is recorded without an alert", () => {
    const session = timeline(START, [[0, "I don't get it"], [1, "I give up"], ...DISTINCT_QUESTIONS.map((q, i): [number, string] => [i + 2, q])]);
    const findings = run(session).flat();
    expect(findings.filter((f) => f.isAlert)).toHaveLength(1);
    expect(findings.at(-1)).toMatchObject({ isAlert: false, data: { level: "none", previousLevel: "mild" } });
  });

  test("onSessionEnd reports the final signal unless it is none", () => {
    const struggling = timeline(START, [
      [0, "I don't get it"],
      [1, "I give up"],
    ]);
    const end = struggleDetector.onSessionEnd?.({ ...turn({ recentStudentMessages: struggling }), config }) ?? [];
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ kind: "struggle", isAlert: false, data: { level: "struggling", phase: "session-end" } });
    const calm = timeline(START, [[0, "what is a noun"]]);
    expect(struggleDetector.onSessionEnd?.({ ...turn({ recentStudentMessages: calm }), config })).toEqual([]);
  });
});
