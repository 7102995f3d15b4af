export * from "./records.ts";
export * from "./source.ts";
