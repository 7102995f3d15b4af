/**
 * The safety moderation stage on the real chat path (REST → gate → gateway), driven through the
 * dev model's marker-driven moderation double: every branch — flagged, below the block threshold,
 * clean, timeout, error, malformed, fail-closed hold, guard-model mode, per-group thresholds, no
 * client — and that a message the rules block is never sent to the moderation endpoint either.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { groups, users } from "@raptscallions/db";
import { makeSchoolScene } from "@raptscallions/db/testing";
import { DEFAULT_BLOCK_REPLY, DEFAULT_HOLD_REPLY, DEFAULT_SELF_HARM_REPLY } from "@raptscallions/modules";
import { eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { useDeployment, useUpstream } from "./helpers/deployment.ts";
import type { Instance } from "./helpers/live.ts";
import { findingsOf, startScriptedUpstream, studentChat } from "./modules-helpers.ts";

const h = useHarness();
const upstream = useUpstream(h, startScriptedUpstream());
const local = useDeployment(h, upstream);
let api: Instance;
let noClient: Instance;

beforeAll(async () => {
  api = await local.start();
  noClient = await local.start({ overrides: { moderation: undefined } });
}, 60_000);

/** A fresh school whose settings turn the moderation stage on with `moderation` on top of the defaults. The budget is
 * generous (a cold instance under a loaded CI machine took over 300 ms for its first moderation call); only `[mod:slow]`
 * (30 s) is meant to run out of it. */
async function chatWith(moderation: Record<string, unknown>, on: Instance = api) {
  const scene = await makeSchoolScene(h.db.db);
  await h.db.db.update(users).set({ givenName: "Maya", familyName: "Okafor", name: "Maya Okafor" }).where(eq(users.id, scene.student.id));
  await h.db.db
    .update(groups)
    .set({ settings: { modules: { "safety-filter": { moderation: { enabled: true, model: "dev-moderation", budgetMs: 2000, ...moderation } } } } })
    .where(eq(groups.id, scene.school.id));
  const chat = studentChat(h.db, on, scene);
  await chat.start();
  return chat;
}

/** Runs one turn and reports what reached the tutor and the moderation endpoint. */
async function turn(chat: ReturnType<typeof studentChat>, text: string) {
  const tutor = upstream.requests.length;
  const moderation = upstream.moderationRequests.length;
  const result = await chat.say(text);
  const findings = (await findingsOf(h.db, chat.sessionId)).filter((f) => f.messageId === result.message.id);
  return {
    ...result,
    findings,
    tutorCalls: upstream.requests.length - tutor,
    moderationCalls: upstream.moderationRequests.slice(moderation),
  };
}

describe("moderation stage on the live path", () => {
  test("a category the model flags blocks the turn with the caring reply; the tutor is never called", async () => {
    const chat = await chatWith({});
    const t = await turn(chat, "what should happen on saturday [mod:self-harm]");
    expect(t.moderationCalls).toHaveLength(1);
    expect(t.tutorCalls).toBe(0);
    expect(t.answer.content).toBe(DEFAULT_SELF_HARM_REPLY);
    expect(t.message.meta.flags).toContain("blocked");
    const safety = t.findings.find((f) => f.kind === "self-harm");
    expect(safety).toMatchObject({ severity: "high", isAlert: true });
    expect(safety?.data).toMatchObject({ blocked: true, escalate: true, stages: ["moderation"], moderation: { model: "dev-moderation" } });
  });

  test("a score between the alert and block thresholds alerts without blocking", async () => {
    const chat = await chatWith({});
    const t = await turn(chat, "what should I do about the kids on my bus [mod:harassment=0.6]");
    expect(t.tutorCalls).toBe(1);
    expect(t.answer.content).not.toBe(DEFAULT_BLOCK_REPLY);
    expect(t.findings.find((f) => f.kind === "bullying")).toMatchObject({ severity: "medium", isAlert: true, data: { blocked: false } });
  });

  test("a group's own thresholds decide: block at 0.5 turns the same score into a block", async () => {
    const chat = await chatWith({ thresholds: { bullying: { alert: 0.3, block: 0.5 } } });
    const t = await turn(chat, "what should I do about the kids on my bus [mod:harassment=0.6]");
    expect(t.tutorCalls).toBe(0);
    expect(t.answer.content).toBe(DEFAULT_BLOCK_REPLY);
  });

  test("a clean verdict lets the turn through with no safety finding; the model saw the redacted text", async () => {
    const chat = await chatWith({});
    const t = await turn(chat, "I'm Maya Okafor, what is a prime number?");
    expect(t.tutorCalls).toBe(1);
    expect(t.findings.filter((f) => f.module === "safety-filter")).toEqual([]);
    expect(JSON.stringify(t.moderationCalls[0]?.body)).not.toContain("Okafor");
  });

  test.each([
    ["timeout", "[mod:slow]"],
    ["error", "[mod:error]"],
    ["malformed", "[mod:malformed]"],
  ])("%s: the rules' verdict stands, the turn goes on, and teachers see moderation-unavailable", async (reason, marker) => {
    const chat = await chatWith({});
    const started = Date.now();
    const t = await turn(chat, `how do volcanoes form ${marker}`);
    expect(t.tutorCalls).toBe(1);
    expect(t.findings.find((f) => f.kind === "moderation-unavailable")).toMatchObject({
      isAlert: true,
      data: { reason, held: false, stage: "moderation" },
    });
    if (reason === "timeout") expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("fail closed: an unavailable model holds the message (no tutor call) and it stays out of later history", async () => {
    const chat = await chatWith({ failClosed: true });
    const held = await turn(chat, "what rhymes with orange [mod:error]");
    expect(held.tutorCalls).toBe(0);
    expect(held.answer.content).toBe(DEFAULT_HOLD_REPLY);
    expect(held.message.meta).toMatchObject({ flags: ["held"], modules: { action: "hold" } });
    expect(held.findings.find((f) => f.kind === "moderation-unavailable")).toMatchObject({ data: { held: true } });
    const next = await turn(chat, "ok what rhymes with purple");
    expect(next.tutorCalls).toBe(1);
    expect(JSON.stringify(upstream.requests.at(-1)?.messages)).not.toContain("orange");
  });

  test("a message the rules already block is never sent to the moderation endpoint", async () => {
    const chat = await chatWith({});
    const t = await turn(chat, "I want to kill myself");
    expect(t.moderationCalls).toHaveLength(0);
    expect(t.tutorCalls).toBe(0);
  });

  test("guard-model mode: a chat-completions guard answering unsafe S4 blocks as grooming", async () => {
    const chat = await chatWith({ mode: "chat-guard", model: "dev-guard" });
    const t = await turn(chat, "someone online asked me about my weekend [mod:sexual/minors]");
    expect(t.moderationCalls[0]?.path).toEndWith("/chat/completions");
    expect(t.tutorCalls).toBe(0);
    expect(t.findings.find((f) => f.kind === "grooming")).toMatchObject({ data: { blocked: true, moderation: { labels: ["sexual/minors"] } } });
    const clean = await turn(chat, "what is photosynthesis");
    expect(clean.tutorCalls).toBe(1);
  });

  test("a deployment without a moderation client is never silently safe", async () => {
    const chat = await chatWith({}, noClient);
    const t = await turn(chat, "how do tides work");
    expect(t.findings.find((f) => f.kind === "moderation-unavailable")).toMatchObject({ data: { reason: "not-configured" } });
  });

  test("moderation is off unless a layer turns it on", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const chat = studentChat(h.db, api, scene);
    await chat.start();
    const t = await turn(chat, "plain question [mod:self-harm]");
    expect(t.moderationCalls).toHaveLength(0);
    expect(t.tutorCalls).toBe(1);
  });
});
