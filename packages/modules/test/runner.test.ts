import { describe, expect, test } from "bun:test";
import { z } from "zod";
import {
  DEFAULT_SELF_HARM_REPLY,
  MODULE_ORDER,
  builtInModules,
  orderModules,
  piiFilter,
  resolveModuleConfig,
  runAfterAnswer,
  runBeforeGateway,
  runOnSessionEnd,
  safetyFilter,
  struggleDetector,
  type ContentModule,
} from "../src/index.ts";
import { NOW, timeline, turn } from "./helpers.ts";

const defaults = resolveModuleConfig([]);

// A test module that records the text it was given, to observe ordering and composition.
function recorder(id: string, seen: string[], transform?: (t: string) => string): ContentModule {
  return {
    id,
    description: "records input",
    configSchema: z.strictObject({}),
    beforeGateway(_ctx, text) {
      seen.push(`${id}:${text}`);
      const out = transform ? transform(text) : text;
      return { action: out === text ? "allow" : "redact", text: out, findings: [] };
    },
  };
}

describe("runBeforeGateway", () => {
  test("modules run safety → pii → struggle whatever order they are passed in", () => {
    expect(orderModules([struggleDetector, piiFilter, safetyFilter]).map((m) => m.id)).toEqual([...MODULE_ORDER]);
  });

  test("safety sees the original text even when redaction would hide the risk", () => {
    // A real surname that is also a risk word: written with a capital it reads as the name, so
    // after name redaction the phrase is gone.
    const ctx = turn({ student: { id: "s-kill", givenName: "Sam", familyName: "Kill" } });
    const result = runBeforeGateway(builtInModules, defaults, ctx, "I want to Kill myself");
    expect(result.text).toBe("I want to [name] myself");
    expect(result.action).toBe("block");
    expect(result.blockedBy).toBe("safety-filter");
    expect(result.reply).toBe(DEFAULT_SELF_HARM_REPLY);
    expect(result.originalText).toBe("I want to Kill myself");
    expect(result.findings.map((f) => `${f.module}/${f.kind}`)).toEqual(["safety-filter/self-harm", "pii-filter/pii-redacted"]);
  });

  test("redaction: the provider gets redacted text; the store gets what the policy says", () => {
    const text = "my email is maya@example.org, how do I write a formal letter?";
    const redactStore = runBeforeGateway(builtInModules, defaults, turn(), text);
    expect(redactStore).toMatchObject({
      action: "redact",
      text: "my email is [email], how do I write a formal letter?",
      textToStore: "my email is [email], how do I write a formal letter?",
    });
    const keep = resolveModuleConfig([{ "pii-filter": { storeOriginal: true } }]);
    expect(runBeforeGateway(builtInModules, keep, turn(), text).textToStore).toBe(text);
  });

  test("clean text is allowed unchanged", () => {
    const result = runBeforeGateway(builtInModules, defaults, turn(), "why is the sky blue?");
    expect(result).toEqual({
      action: "allow",
      text: "why is the sky blue?",
      originalText: "why is the sky blue?",
      textToStore: "why is the sky blue?",
      findings: [],
      reply: undefined,
      blockedBy: undefined,
    });
  });

  test("disabled modules do not run", () => {
    const configs = resolveModuleConfig([{ "pii-filter": false, "safety-filter": { enabled: false } }]);
    const result = runBeforeGateway(builtInModules, configs, turn(), "I'm Maya and I want to kill myself");
    expect(result).toMatchObject({ action: "allow", text: "I'm Maya and I want to kill myself", findings: [] });
  });

  test("modules with no resolved entry run with defaults (never silently off)", () => {
    const result = runBeforeGateway(builtInModules, {}, turn(), "I'm Maya");
    expect(result.text).toBe("I'm [name]");
  });

  test("redactions compose in order and any block wins", () => {
    const seen: string[] = [];
    const upper = recorder("upper", seen, (t) => t.toUpperCase());
    const exclaim = recorder("exclaim", seen, (t) => `${t}!`);
    const blocker: ContentModule = {
      id: "blocker",
      description: "always blocks",
      configSchema: z.strictObject({}),
      beforeGateway: (_ctx, text) => ({ action: "block", text, findings: [], reply: "no" }),
    };
    const modules = [upper, blocker, piiFilter, exclaim];
    const result = runBeforeGateway(modules, resolveModuleConfig([], modules), turn(), "maya here");
    // pii first (fixed order), then the custom modules in the order given.
    expect(seen).toEqual(["upper:[name] here", "exclaim:[NAME] HERE"]);
    expect(result).toMatchObject({ action: "block", blockedBy: "blocker", reply: "no", text: "[NAME] HERE!", originalText: "maya here" });
  });

  test("struggle detection runs on the turn and its finding is returned", () => {
    const start = new Date(NOW.getTime() - 10 * 60_000);
    const ctx = turn({
      recentStudentMessages: timeline(start, [
        [0, "how do I find the area of a circle?"],
        [2, "how do you find the area of a circle"],
        [4, "I don't get it"],
      ]),
    });
    const result = runBeforeGateway(builtInModules, defaults, ctx, "how do i find the area of a circle");
    expect(result.action).toBe("allow");
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ module: "struggle-detector", kind: "struggle", isAlert: true });
  });
});

describe("runAfterAnswer and runOnSessionEnd", () => {
  test("answers are checked by enabled modules only", () => {
    const answer = "Let's keep this our secret, don't tell your teacher.";
    expect(runAfterAnswer(builtInModules, defaults, turn(), answer).map((f) => f.kind)).toEqual(["abuse"]);
    expect(runAfterAnswer(builtInModules, resolveModuleConfig([{ "safety-filter": false }]), turn(), answer)).toEqual([]);
  });

  test("session end collects the struggle summary", () => {
    const start = new Date(NOW.getTime() - 10 * 60_000);
    const ctx = turn({
      recentStudentMessages: timeline(start, [
        [0, "I don't get it"],
        [1, "this is stupid"],
      ]),
    });
    expect(runOnSessionEnd(builtInModules, defaults, ctx).map((f) => `${f.module}/${f.data.level}`)).toEqual(["struggle-detector/struggling"]);
    expect(runOnSessionEnd(builtInModules, resolveModuleConfig([{ "struggle-detector": false }]), ctx)).toEqual([]);
  });
});
