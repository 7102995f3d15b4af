export { describeRoute, jsonBody, pathParams, queryParams } from "./describe.ts";
export type { InputDoc, ResponseDoc, RouteDoc } from "./describe.ts";
export { buildOpenApiDocument, toOpenApiPath } from "./generate.ts";
export type { MountedRoute, OpenApiDocument } from "./generate.ts";
export { renderDocsHtml } from "./html.ts";
