export { type CsvBundleOptions, createCsvBundleSource } from "./csv/bundle-source.ts";
export type { BundleLimits } from "./csv/zip.ts";
export * from "./records.ts";
export type { RetryPolicy } from "./rest/http.ts";
export { createOneRosterRestSource, type OneRosterRestOptions, ROSTER_CORE_READONLY_SCOPE } from "./rest/rest-source.ts";
export * from "./source.ts";
