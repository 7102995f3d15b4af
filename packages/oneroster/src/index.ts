export * from "./records.ts";
export * from "./source.ts";
export { type CsvBundleOptions, createCsvBundleSource } from "./csv/bundle-source.ts";
export type { BundleLimits } from "./csv/zip.ts";
