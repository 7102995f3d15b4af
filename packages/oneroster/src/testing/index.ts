/**
 * Test tooling for OneRoster: a spec-shaped REST server, CSV bundles built from records, and a
 * deterministic district with delta helpers. For tests and the bench, never for production code.
 */
export { type BundleFile, buildCsvBundle, type CsvBundleOptions as BuildCsvBundleOptions, csvField } from "./bundle.ts";
export { type DistrictOptions, generateDistrict, type RosterData } from "./district.ts";
export { type DistrictChanges, type MutatedDistrict, mutateDistrict } from "./mutate.ts";
export { toRestJson } from "./rest-json.ts";
export {
  type OneRosterFaults,
  type OneRosterServer,
  type OneRosterServerOptions,
  type ServedRequest,
  startOneRosterServer,
} from "./server.ts";
