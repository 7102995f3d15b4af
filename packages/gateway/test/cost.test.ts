import { describe, expect, test } from "bun:test";
import { costOf, estimateMessagesTokens, estimateTokens, microsToUsd, parseRetryAfter, usdToMicros } from "../src/index.ts";

describe("costOf", () => {
  test("prices per 1k tokens become integer micro-USD", () => {
    // 1000 × $0.0015/1k + 500 × $0.002/1k = $0.0015 + $0.001 = 2500 micro-USD
    expect(costOf({ inputTokens: 1000, outputTokens: 500 }, { inputPricePer1k: 0.0015, outputPricePer1k: 0.002 })).toBe(2500);
  });

  test("float noise does not round up a whole micro-dollar, real fractions do", () => {
    expect(costOf({ inputTokens: 1234, outputTokens: 0 }, { inputPricePer1k: 0.0015, outputPricePer1k: 0 })).toBe(1851);
    expect(costOf({ inputTokens: 1, outputTokens: 0 }, { inputPricePer1k: 0.0000001, outputPricePer1k: 0 })).toBe(1);
  });

  test("accepts numeric strings from the catalogue and refuses nonsense prices", () => {
    expect(costOf({ inputTokens: 2000, outputTokens: 2000 }, { inputPricePer1k: "0.01", outputPricePer1k: "0.03" })).toBe(80_000);
    expect(() => costOf({ inputTokens: 1, outputTokens: 1 }, { inputPricePer1k: "free", outputPricePer1k: 0 })).toThrow(RangeError);
    expect(() => costOf({ inputTokens: 1, outputTokens: 1 }, { inputPricePer1k: -1, outputPricePer1k: 0 })).toThrow(RangeError);
  });

  test("USD and micro-USD convert both ways", () => {
    expect(usdToMicros(0.00042)).toBe(420);
    expect(usdToMicros(Number.NaN)).toBe(0);
    expect(microsToUsd(2_500_000)).toBe(2.5);
  });
});

describe("estimateTokens", () => {
  test("one token per four characters, rounded up", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("abcd")).toBe(1);
    expect(estimateTokens("abcde")).toBe(2);
    expect(estimateMessagesTokens([{ content: "abcd" }, { content: "" }])).toBe(2 + 5 + 4);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2031, 0, 1, 12, 0, 0);
  test("seconds, HTTP dates and retry-after-ms", () => {
    expect(parseRetryAfter(new Headers({ "retry-after": "3" }), now)).toBe(3000);
    expect(parseRetryAfter(new Headers({ "retry-after": new Date(now + 5000).toUTCString() }), now)).toBe(5000);
    expect(parseRetryAfter(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), now)).toBe(250);
    expect(parseRetryAfter(new Headers({ "retry-after": "soon" }), now)).toBeNull();
    expect(parseRetryAfter(new Headers(), now)).toBeNull();
  });
});
