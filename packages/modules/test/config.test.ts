import { describe, expect, test } from "bun:test";
import { AppError } from "@raptscallions/core";
import { z } from "zod";
import { builtInModules, resolveModuleConfig, validateModuleConfigLayer, type ContentModule } from "../src/index.ts";

function expectValidationError(fn: () => unknown, messagePart: string): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const appError = err as AppError;
    expect(appError.code).toBe("VALIDATION_FAILED");
    expect(appError.status).toBe(422);
    expect(appError.message).toContain(messagePart);
    return appError;
  }
  throw new Error("expected a VALIDATION_FAILED error");
}

describe("resolveModuleConfig", () => {
  test("no layers: every built-in enabled with its defaults", () => {
    const resolved = resolveModuleConfig([]);
    expect(Object.keys(resolved).sort()).toEqual(["pii-filter", "safety-filter", "struggle-detector"]);
    expect(resolved["pii-filter"]).toEqual({
      enabled: true,
      config: {
        storeOriginal: false,
        kinds: { email: true, phone: true, address: true, dob: true, name: true, person: true, student_id: true, handle: true },
        childAgeMin: 4,
        childAgeMax: 19,
      },
    });
    expect(resolved["safety-filter"]?.config).toMatchObject({ blockAt: "high", alertAt: "medium", escalation: [], crisisResources: null });
    expect(resolved["struggle-detector"]?.config).toMatchObject({ windowSize: 8, idleMinutes: 5, similarityThreshold: 0.6 });
  });

  test("system → district → school → tool: later layers override earlier, nested objects merge", () => {
    const resolved = resolveModuleConfig([
      { "struggle-detector": { idleMinutes: 10, windowSize: 6 }, "pii-filter": { kinds: { dob: false } } },
      undefined, // a group with no settings
      { "struggle-detector": { idleMinutes: 3 }, "pii-filter": { kinds: { name: false } } },
      { "pii-filter": { storeOriginal: true } },
    ]);
    expect(resolved["struggle-detector"]?.config).toMatchObject({ idleMinutes: 3, windowSize: 6 });
    expect(resolved["pii-filter"]?.config).toMatchObject({
      storeOriginal: true,
      kinds: { email: true, phone: true, address: true, dob: false, name: false, person: true, student_id: true, handle: true },
    });
  });

  test("a module can be disabled at any layer, and re-enabled by a later one", () => {
    expect(resolveModuleConfig([{ "struggle-detector": { enabled: false } }])["struggle-detector"]?.enabled).toBe(false);
    expect(resolveModuleConfig([{}, {}, { "pii-filter": false }])["pii-filter"]?.enabled).toBe(false);
    const reenabled = resolveModuleConfig([{ "pii-filter": { enabled: false } }, { "pii-filter": { enabled: true, storeOriginal: true } }]);
    expect(reenabled["pii-filter"]).toMatchObject({ enabled: true, config: { storeOriginal: true } });
    // Disabling keeps the settings so a later re-enable does not lose them.
    const kept = resolveModuleConfig([{ "safety-filter": { blockAt: "critical" } }, { "safety-filter": false }, { "safety-filter": true }]);
    expect(kept["safety-filter"]).toMatchObject({ enabled: true, config: { blockAt: "critical" } });
  });

  test("the safety escalation list accumulates across layers", () => {
    const resolved = resolveModuleConfig([
      { "safety-filter": { escalation: ["district-lead"] } },
      { "safety-filter": { escalation: ["school-counsellor", "district-lead"] } },
      { "safety-filter": { crisisResources: "Call 988" } },
    ]);
    expect(resolved["safety-filter"]?.config).toMatchObject({ escalation: ["district-lead", "school-counsellor"], crisisResources: "Call 988" });
  });

  test("other arrays replace", () => {
    const resolved = resolveModuleConfig([
      { "struggle-detector": { extraFrustrationPhrases: ["bruh"] } },
      { "struggle-detector": { extraFrustrationPhrases: ["ugh fine"] } },
    ]);
    expect(resolved["struggle-detector"]?.config).toMatchObject({ extraFrustrationPhrases: ["ugh fine"] });
  });

  test("invalid values name the module, the layer and the key", () => {
    const err = expectValidationError(
      () => resolveModuleConfig([{}, { "safety-filter": { blockAt: "extreme" } }]),
      'Invalid settings for content module "safety-filter" at layer 1 (blockAt',
    );
    expect(err.details).toMatchObject({ layer: 1, module: "safety-filter", issues: [{ path: "blockAt" }] });
    expectValidationError(() => resolveModuleConfig([{ "pii-filter": { kinds: { emial: false } } }]), "pii-filter");
    expectValidationError(() => resolveModuleConfig([{ "struggle-detector": { mildAt: 0.9, strugglingAt: 0.5 } }]), "mildAt");
    expectValidationError(() => resolveModuleConfig([{ "safety-filter": { escalation: "admin-1" } }]), "escalation");
  });

  test("unknown modules, non-objects, bad enabled and reserved keys are refused", () => {
    expectValidationError(() => resolveModuleConfig([{ pii_filter: { enabled: false } }]), 'Unknown content module "pii_filter"');
    expectValidationError(() => resolveModuleConfig([{ "pii-filter": "off" }]), "must be an object");
    expectValidationError(() => resolveModuleConfig([{ "pii-filter": { enabled: "no" } }]), '"enabled"');
    expectValidationError(() => resolveModuleConfig([JSON.parse('{"pii-filter": {"__proto__": {"storeOriginal": true}}}') as Record<string, unknown>]), "reserved key");
    expectValidationError(() => validateModuleConfigLayer([1, 2]), "must be an object");
  });

  test("works with custom modules", () => {
    const custom: ContentModule = {
      id: "word-counter",
      description: "test module",
      configSchema: z.strictObject({ limit: z.number().default(100) }),
    };
    const resolved = resolveModuleConfig([{ "word-counter": { limit: 5 } }], [...builtInModules, custom]);
    expect(resolved["word-counter"]).toEqual({ enabled: true, config: { limit: 5 } });
  });
});
