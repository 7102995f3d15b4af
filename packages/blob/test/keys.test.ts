import { describe, expect, test } from "bun:test";
import { AppError } from "@raptscallions/core";
import { assertValidKey, contentAddressedKey, isValidKey } from "../src/index.ts";

const SHA = "a".repeat(64);

describe("blob keys", () => {
  test("ordinary keys are valid", () => {
    for (const key of ["a", "groups/g_1/assets/x.png", "A-b_c.d/e", "uploads/2024/01/file.v2.webp"]) {
      expect(isValidKey(key)).toBe(true);
    }
  });

  test("traversal, absolute, empty segments, odd characters and non-strings are not", () => {
    for (const key of ["", "/a", "a/", "a//b", "..", "a/../b", "a/..b", "./a", ".a", "a\\b", "a b", "a?b", "a#b", "ä", 42, null]) {
      expect(isValidKey(key)).toBe(false);
    }
    expect(() => assertValidKey("../x")).toThrow(AppError);
  });

  test("contentAddressedKey names an asset by its group and hash", () => {
    expect(contentAddressedKey("grp_123", SHA, "png")).toBe(`groups/grp_123/assets/${SHA}.png`);
  });

  test("contentAddressedKey refuses parts that would make another key", () => {
    for (const [group, sha, ext] of [
      ["../other", SHA, "png"],
      ["g/h", SHA, "png"],
      ["", SHA, "png"],
      ["-g", SHA, "png"],
      ["g", SHA.toUpperCase(), "png"],
      ["g", "abc", "png"],
      ["g", SHA, "svg"],
      ["g", SHA, "png/../../x"],
    ] as const) {
      let err: unknown;
      try {
        contentAddressedKey(group, sha, ext);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe("VALIDATION_FAILED");
    }
  });
});
