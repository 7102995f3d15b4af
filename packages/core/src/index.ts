export * from "./errors.ts";
export * from "./api/common.ts";
export * from "./api/me.ts";
