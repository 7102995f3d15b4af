export * from "./client.ts";
export * from "./paths.ts";
export * from "./seed.ts";
export * as schema from "./schema/index.ts";
export * from "./schema/index.ts";
export * from "./errors.ts";
export type { EmbeddedState } from "./pglite/host-client.ts";
export * from "./prepared.ts";
export * from "./scope.ts";
