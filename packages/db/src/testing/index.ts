export * from "./factories.ts";
export * from "./test-db.ts";
