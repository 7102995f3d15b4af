export * from "./identity.ts";
export * from "./classes.ts";
export * from "./sessions.ts";
export * from "./ai.ts";
export * from "./system.ts";
export { ltree } from "./columns.ts";
export * from "./notifications.ts";
export * from "./roster.ts";
