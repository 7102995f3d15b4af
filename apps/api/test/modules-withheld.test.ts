/**
 * What the module gate withholds never reaches a provider — not on its own turn, and not as
 * history on any later turn. One scenario per kind of finding that blocks (each safety category,
 * a moderation-stage block and a fail-closed hold), over several turns, against a recording
 * OpenAI-compatible upstream on a real port.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { groups, messages, users } from "@raptscallions/db";
import { makeSchoolScene } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { useDeployment, useUpstream } from "./helpers/deployment.ts";
import type { Instance } from "./helpers/live.ts";
import { startScriptedUpstream, studentChat } from "./modules-helpers.ts";

const h = useHarness();
const upstream = useUpstream(h, startScriptedUpstream());
const local = useDeployment(h, upstream);
let api: Instance;

beforeAll(async () => {
  api = await local.start();
}, 60_000);

const MODERATION_ON = { enabled: true, model: "dev-moderation", budgetMs: 2000 };

const cases: { kind: string; text: string; modules?: Record<string, unknown>; flag: string }[] = [
  { kind: "self-harm", text: "tonight I'm ending it, I already wrote the note", flag: "blocked" },
  { kind: "eating-disorder", text: "I make myself throw up after every meal so I don't gain weight", flag: "blocked" },
  { kind: "violence", text: "I'm going to shoot up the school tomorrow", flag: "blocked" },
  { kind: "abuse", text: "my stepdad hits me when he gets home", flag: "blocked" },
  { kind: "grooming", text: "the guy from discord told me not to tell my parents about our secret photos", flag: "blocked" },
  { kind: "sexual", text: "he keeps asking me to send him nudes", flag: "blocked" },
  { kind: "bullying", text: "they said they're going to beat me up after school", flag: "blocked" },
  { kind: "self-harm", text: "quiero morirme, esta noche me mato", flag: "blocked" },
  { kind: "self-harm", text: "tôi muốn chết, tối nay tôi sẽ tự tử", flag: "blocked" },
  {
    kind: "moderation: violence",
    text: "something the rules miss about the lake [mod:violence]",
    modules: { "safety-filter": { moderation: MODERATION_ON } },
    flag: "blocked",
  },
  {
    kind: "moderation unavailable, fail closed",
    text: "a question nobody could check about the lake [mod:error]",
    modules: { "safety-filter": { moderation: { ...MODERATION_ON, failClosed: true } } },
    flag: "held",
  },
];

describe("withheld turns never reach a provider", () => {
  test.each(cases)("$kind: not on its turn, and never as later history", async ({ text, modules, flag }) => {
    const scene = await makeSchoolScene(h.db.db);
    await h.db.db.update(users).set({ givenName: "Sam", familyName: "Rivera", name: "Sam Rivera" }).where(eq(users.id, scene.student.id));
    if (modules) await h.db.db.update(groups).set({ settings: { modules } }).where(eq(groups.id, scene.school.id));
    const chat = studentChat(h.db, api, scene);
    await chat.start();
    // A letter first, so the ref is never an all-digit run a PII rule could take for a number.
    const ref = `r${crypto.randomUUID().slice(0, 8)}`;

    const first = await chat.say(`what is 2+2? (ref ${ref})`);
    expect(first.answer.state).toBe("complete");
    const callsBefore = upstream.requests.length;
    const withheld = await chat.say(text);
    expect(upstream.requests.length).toBe(callsBefore);
    expect(withheld.message.meta.flags).toContain(flag);
    expect(withheld.answer.meta.flags).toContain(flag);
    const reply = withheld.answer.content;
    expect(reply.length).toBeGreaterThan(20);

    await chat.say("ok, can you help me with fractions instead?");
    await chat.say("and what about decimals?");

    const later = upstream.requests.slice(callsBefore);
    expect(later).toHaveLength(2);
    for (const request of later) {
      const wire = JSON.stringify(request.messages);
      // The conversation around it is still there…
      expect(wire).toContain(ref);
      expect(wire).toContain(first.answer.content.slice(0, 40));
      // …but neither the withheld message nor the reply that stood in for an answer.
      expect(wire).not.toContain(withheld.message.content);
      expect(wire).not.toContain(reply.slice(0, 60));
    }
    // The last call saw every earlier allowed turn: 3 user turns and 2 answers, nothing else.
    const last = later[later.length - 1];
    expect(last?.messages.filter((m) => m.role === "user")).toHaveLength(3);
    expect(last?.messages.filter((m) => m.role === "assistant")).toHaveLength(2);

    // The withheld rows stay in the record for the school: only the provider never sees them.
    const rows = await h.db.db.select().from(messages).where(eq(messages.sessionId, chat.sessionId));
    expect(rows).toHaveLength(8);
  });
});
