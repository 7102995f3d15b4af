import { describe, expect, test } from "bun:test";
import {
  DEFAULT_BLOCK_REPLY,
  DEFAULT_SELF_HARM_REPLY,
  assessStudentMessage,
  safetyConfigSchema,
  safetyFilter,
  type SafetyCategory,
  type SafetyConfig,
} from "../src/index.ts";
import { turn } from "./helpers.ts";

const defaults = safetyConfigSchema.parse({});
const check = (text: string, config: SafetyConfig = defaults) => {
  const result = safetyFilter.beforeGateway?.({ ...turn(), config }, text);
  if (!result) throw new Error("safety-filter has no beforeGateway");
  return result;
};
const severityOf = (text: string): string => assessStudentMessage(text)[0]?.severity ?? "none";

describe("severity", () => {
  test.each([
    ["I want to kill myself", "critical"],
    ["i want to k1ll mys3lf", "critical"],
    ["i wanna kiiiill myself", "critical"],
    ["i want to kms", "critical"],
    ["I'm going to shoot up the school tomorrow", "critical"],
    ["I'm going to kill him, i have a knife", "critical"],
    ["I've been cutting myself again", "high"],
    ["thinking about s u i c i d e a lot lately", "high"],
    ["my dad hits me when he's drunk", "high"],
    ["send nudes", "high"],
    ["this level is so hard i want to die lol", "medium"],
    ["i want to punch tyler in the face", "medium"],
    ["everyone at school calls me fat and ugly", "medium"],
  ])("%p → %s", (text, severity) => {
    expect(severityOf(text)).toBe(severity);
  });

  test.each([
    "this homework is killing me",
    "how do I kill the process on port 3000",
    "what does kill -9 do",
    "what happens during cell death in biology?",
    "the war killed millions of people, why did it start?",
    "How did the atomic bomb end World War 2?",
    "why did Romeo and Juliet kill themselves?",
    "what is the suicide rate in Japan for my report",
    "I'm dying to see the new movie",
    "I cut myself on a piece of paper lol",
    "how do I kill the zombie boss in minecraft",
    "what is sexual reproduction in plants",
    "I live in Sussex",
    "I'm writing an essay about drug abuse",
    "my dad hits the golf ball really far",
    "what is the bully pulpit",
    "how do I make a bath bomb for a science fair",
  ])("no alert: %p", (text) => {
    expect(assessStudentMessage(text).filter((a) => a.severity !== "low" && a.severity !== "info")).toEqual([]);
  });
});

describe("safety-filter module on student messages", () => {
  test("critical self-harm blocks with the self-harm reply and escalates", () => {
    const result = check("I want to kill myself");
    expect(result.action).toBe("block");
    expect(result.text).toBe("I want to kill myself");
    expect(result.reply).toBe(DEFAULT_SELF_HARM_REPLY);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({
      module: "safety-filter",
      kind: "self-harm",
      severity: "critical",
      isAlert: true,
      data: { category: "self-harm", source: "student", blocked: true, escalate: true, escalateTo: [] },
    });
  });

  test("the default self-harm reply is warm, points to a trusted adult and names no country's hotline", () => {
    const reply = check("i wish i was dead").reply ?? "";
    expect(reply).toContain("trusted adult");
    expect(reply).toContain("emergency number or a crisis helpline");
    for (const specific of ["988", "911", "999", "Samaritans", "Childline", "116", "Lifeline"]) {
      expect(reply).not.toContain(specific);
    }
  });

  test("configured crisis resources are appended to the self-harm reply only", () => {
    const config = safetyConfigSchema.parse({ crisisResources: "In the US, call or text 988." });
    expect(check("I want to end my life", config).reply).toBe(`${DEFAULT_SELF_HARM_REPLY} In the US, call or text 988.`);
    expect(check("how do I make a bomb at home", config).reply).toBe(DEFAULT_BLOCK_REPLY);
  });

  test("a school's own replies replace the defaults", () => {
    const config = safetyConfigSchema.parse({ reply: "Please go and see Ms Patel.", selfHarmReply: "Please go and see Mr Obi now." });
    expect(check("my stepdad touches me", config).reply).toBe("Please go and see Ms Patel.");
    expect(check("I want to kill myself", config).reply).toBe("Please go and see Mr Obi now.");
  });

  test("self-harm reply wins when several categories block", () => {
    const result = check("my dad hits me and I want to kill myself");
    expect(result.action).toBe("block");
    expect(result.reply).toBe(DEFAULT_SELF_HARM_REPLY);
    expect(result.findings.map((f) => f.kind).sort()).toEqual(["abuse", "self-harm"]);
  });

  test("escalation list rides on escalating findings", () => {
    const config = safetyConfigSchema.parse({ escalation: ["admin-1", "admin-2"] });
    const finding = check("my mum locks me in my room without food", config).findings[0];
    expect(finding?.data).toMatchObject({ escalate: true, escalateTo: ["admin-1", "admin-2"] });
  });

  test("medium allows the message but alerts, without escalation", () => {
    const config = safetyConfigSchema.parse({ escalation: ["admin-1"] });
    const result = check("I'm scared to go home", config);
    expect(result.action).toBe("allow");
    expect(result.reply).toBeUndefined();
    expect(result.findings[0]).toMatchObject({ kind: "abuse", severity: "medium", isAlert: true, data: { escalate: false, escalateTo: [], blocked: false } });
  });

  test("ordinary questions pass with no findings", () => {
    expect(check("how do volcanoes erupt")).toEqual({ action: "allow", text: "how do volcanoes erupt", findings: [] });
  });

  test("blockAt and alertAt are configurable", () => {
    const strict = safetyConfigSchema.parse({ blockAt: "medium" });
    expect(check("I'm scared to go home", strict).action).toBe("block");
    const lenient = safetyConfigSchema.parse({ blockAt: "critical", alertAt: "high" });
    const r = check("I've been cutting myself again", lenient);
    expect(r.action).toBe("allow");
    expect(r.findings[0]?.isAlert).toBe(true);
    expect(check("I'm scared to go home", lenient).findings[0]?.isAlert).toBe(false);
  });

  test("a category can be switched off", () => {
    const config = safetyConfigSchema.parse({ categories: { bullying: false } });
    expect(check("kys loser", config).findings).toEqual([]);
    expect(check("kys loser").action).toBe("block");
  });

  test("teacher-facing message names the category, not the student's words", () => {
    const finding = check("i'm going to end my life tonight").findings[0];
    expect(finding?.message).toContain("self-harm");
    expect(finding?.message).not.toContain("tonight");
  });
});

describe("safety-filter module on AI answers", () => {
  const answer = (text: string, config: SafetyConfig = defaults) => safetyFilter.afterAnswer?.({ ...turn(), config }, text) ?? [];

  test("a caring answer that mentions self-harm is not flagged", () => {
    expect(answer("If you're thinking about killing yourself, please talk to a trusted adult or call your local emergency number.")).toEqual([]);
  });

  test("an answer asking a child for secrecy is an escalated alert", () => {
    const [finding] = answer("Let's keep this our secret, don't tell your parents.");
    expect(finding).toMatchObject({ kind: "abuse", severity: "high", isAlert: true, data: { source: "answer", escalate: true, blocked: false } });
  });

  test("an answer insulting the student is flagged; reassurance is not", () => {
    expect(answer("You're so stupid.")[0]?.kind).toBe("bullying");
    expect(answer("You are not stupid at all!")).toEqual([]);
  });

  test("checkAnswers: false turns answer checks off", () => {
    expect(answer("You're so stupid.", safetyConfigSchema.parse({ checkAnswers: false }))).toEqual([]);
  });
});

describe("adversarial input", () => {
  // Many matches in one long message: sentence lookup must stay local, or this turns quadratic.
  test("long repetitive messages complete and are still assessed", () => {
    expect(assessStudentMessage("I'm gonna kill him. ".repeat(5_000))[0]?.category).toBe("violence");
    expect(assessStudentMessage("thinking about s u i c i d e again. ".repeat(3_000))[0]?.category).toBe("self-harm");
    expect(assessStudentMessage("a ".repeat(50_000) + "?".repeat(10_000))).toEqual([]);
  });
});

describe("categories added for issue 16, and Spanish and Vietnamese", () => {
  const categoriesOf = (text: string) =>
    assessStudentMessage(text)
      .filter((a) => a.severity !== "low" && a.severity !== "info")
      .map((a) => a.category);
  test.each([
    ["i make myself throw up after dinner most nights", "eating-disorder"],
    ["i only let myself have 400 calories a day now", "eating-disorder"],
    ["a man from an app says i'm mature for my age and wants to meet up, he's 35", "grooming"],
    ["he says if i don't send more he'll post the pic i already sent", "grooming"],
    ["tonight i'm ending it, i'm done", "self-harm"],
    ["two years ago i swallowed a bottle of sleeping pills and woke up in hospital", "self-harm"],
    ["how many pills is a lethal dose for someone my size", "self-harm"],
    ["quiero quitarme la vida, ya no aguanto", "self-harm"],
    ["me provoco el vomito despues de comer", "eating-disorder"],
    ["mi padrastro me pega cuando llega borracho", "abuse"],
    ["toi muon tu tu", "self-harm"],
    ["tôi không muốn sống nữa", "self-harm"],
    ["bố tôi hay đánh tôi khi say", "abuse"],
  ])("%p → %s", (text, category) => {
    expect(categoriesOf(text)).toContain(category as SafetyCategory);
  });

  test.each([
    "my mom will kill me when she sees my report card",
    "for my health essay: what are the warning signs of anorexia?",
    "in the book, why did the character want to end it all?",
    "lol kms i just waved at someone who wasn't waving at me",
    "mi papá me va a matar cuando vea mis calificaciones jajaja",
    "đói muốn chết luôn",
    "từ từ thôi, mai mình làm tiếp bài tập",
  ])("no alert: %p", (text) => {
    expect(categoriesOf(text)).toEqual([]);
  });
});
