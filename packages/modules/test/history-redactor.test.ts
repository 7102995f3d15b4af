import { describe, expect, test } from "bun:test";
import { createHistoryRedactor, piiConfigSchema, piiFilter, redactPii } from "../src/index.ts";
import { MAYA, NOW } from "./helpers.ts";

const TEXTS = [
  "my email is maya.k12@gmail.com thanks",
  "I'm Maya and I live at 42 Oak Street, Springfield",
  "I was born on 14 March 2012",
  "nothing personal here",
  "my email is maya.k12@gmail.com thanks",
];

describe("createHistoryRedactor", () => {
  test("gives exactly what redactPii gives, also when a text comes again", () => {
    const redact = createHistoryRedactor({ student: MAYA, now: NOW });
    for (const round of [1, 2]) {
      for (const text of TEXTS) expect([round, redact(text)]).toEqual([round, redactPii(text, { student: MAYA, now: NOW }).text]);
    }
  });

  test("a remembered result is never reused under another config, student or year", () => {
    const text = "I'm Maya, born on 14 March 2012, mail maya.k12@gmail.com";
    expect(createHistoryRedactor({ student: MAYA, now: NOW })(text)).toBe(redactPii(text, { student: MAYA, now: NOW }).text);
    const noEmail = piiConfigSchema.parse({ kinds: { email: false } });
    expect(createHistoryRedactor({ student: MAYA, now: NOW, config: noEmail })(text)).toBe(redactPii(text, { student: MAYA, now: NOW, config: noEmail }).text);
    expect(createHistoryRedactor({ student: MAYA, now: NOW })("mail tigerfan99@gmail.com")).toBe("mail [email]");
    expect(createHistoryRedactor({ student: MAYA, now: NOW, config: noEmail })("mail tigerfan99@gmail.com")).toBe("mail tigerfan99@gmail.com");
    const other = { id: "someone-else", givenName: "Ravi" };
    expect(createHistoryRedactor({ student: other, now: NOW })(text)).toBe(redactPii(text, { student: other, now: NOW }).text);
    const later = new Date(Date.UTC(NOW.getUTCFullYear() + 40, 0, 1));
    expect(createHistoryRedactor({ student: MAYA, now: later })(text)).toBe(redactPii(text, { student: MAYA, now: later }).text);
  });

  test("the module's redaction of a turn's message is what the history redactor gives for it later, under the same config only", () => {
    const text = `I'm Maya, mail tiger${crypto.randomUUID().slice(0, 6)}@gmail.com`;
    const noEmail = Object.freeze(piiConfigSchema.parse({ kinds: { email: false } }));
    const fromModule = piiFilter.beforeGateway?.({ sessionId: "s", student: MAYA, recentStudentMessages: [], now: NOW, config: noEmail }, text);
    expect(fromModule?.text).toBe(redactPii(text, { student: MAYA, now: NOW, config: noEmail }).text);
    expect(createHistoryRedactor({ student: MAYA, now: NOW, config: noEmail })(text)).toBe(fromModule?.text ?? "x");
    expect(createHistoryRedactor({ student: MAYA, now: NOW })(text)).toBe(redactPii(text, { student: MAYA, now: NOW }).text);
    expect(createHistoryRedactor({ student: MAYA, now: NOW })(text)).not.toBe(fromModule?.text);
  });

  test("refuses a bad config up front, like redactPii", () => {
    expect(() => createHistoryRedactor({ now: NOW, config: { kinds: { email: "yes" } } as never })).toThrow();
  });

  test("long texts are redacted without being remembered, same result", () => {
    const long = `${"word ".repeat(900)} mail maya.k12@gmail.com`;
    expect(createHistoryRedactor({ student: MAYA, now: NOW })(long)).toBe(redactPii(long, { student: MAYA, now: NOW }).text);
  });
});
