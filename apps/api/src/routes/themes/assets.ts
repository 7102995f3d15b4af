import {
  deleteThemeAssetQuerySchema,
  idParamSchema,
  listThemeAssetsQuerySchema,
  themeAssetIdParamSchema,
  themeAssetListResponseSchema,
  themeAssetServeParamSchema,
  themeAssetUploadResponseSchema,
} from "@raptscallions/core";
import { z } from "zod";
import type { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, pathParams, queryParams } from "../../openapi/index.ts";
import { deleteThemeAsset } from "../../services/themes/delete-asset.ts";
import { listThemeAssets } from "../../services/themes/list-assets.ts";
import { serveThemeAsset } from "../../services/themes/serve-asset.ts";
import { uploadThemeAsset } from "../../services/themes/upload-asset.ts";
import { publicContext, serviceContext } from "../../services/context.ts";
import { assertDeclaredLength, assertMultipart, readUploadedFile } from "./multipart.ts";

const tags = ["themes"];
const admins = "administrators of the group (or above it)";
const uploaded = { description: "The asset", schema: themeAssetUploadResponseSchema };

/** Upload, list, delete and serve theme assets. Paths are relative to `/api`. */
export function registerThemeAssetRoutes(app: Hono<AppEnv>): void {
  // Exempt from the global JSON body limit (see isThemeAssetUpload); the upload limit applies
  // here instead, counted while the body streams.
  app.post(
    "/groups/:id/theme/assets",
    describeRoute({
      summary: "Upload a theme image",
      description:
        "multipart/form-data with one file in the field `file`: PNG, JPEG, GIF or WebP (decided from the bytes; SVG refused), at most UPLOAD_LIMIT_BYTES and 4096x4096. 201 when stored, 200 when the same bytes were already stored for the group.",
      tags,
      access: admins,
      responses: { 201: uploaded, 200: uploaded },
      errors: [413, 415],
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const limit = c.var.deps.config.uploadLimitBytes;
      assertMultipart(c.req.header("content-type"));
      assertDeclaredLength(c.req.header("content-length"), limit);
      const body = await uploadThemeAsset({
        ctx: serviceContext(c),
        input: { groupId: id, readFile: () => readUploadedFile(c.req.raw, limit) },
      });
      return c.json(body, body.created ? 201 : 200);
    },
  );

  app.get(
    "/groups/:id/theme/assets",
    describeRoute({
      summary: "A group's theme images",
      description: "With `inherited=true`, also its ancestors' (everything the group's theme may use).",
      tags,
      access: admins,
      responses: { 200: { description: "The assets", schema: themeAssetListResponseSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    queryParams(listThemeAssetsQuerySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const { inherited } = c.req.valid("query");
      const body = await listThemeAssets({ ctx: serviceContext(c), input: { groupId: id, inherited } });
      return c.json(body, 200);
    },
  );

  app.delete(
    "/groups/:id/theme/assets/:assetId",
    describeRoute({
      summary: "Delete a theme image",
      description: "409 with `details.usedBy` while a theme (the group's or a descendant's) uses it, unless `force=true`, which also removes it from those themes.",
      tags,
      access: admins,
      responses: {
        200: {
          description: "Deleted",
          schema: z.object({
            id: z.uuid(),
            removedFrom: z.array(z.object({ groupId: z.uuid(), groupName: z.string(), slots: z.array(z.string()) })),
          }),
        },
      },
      errors: [409],
    }),
    requireUser,
    pathParams(themeAssetIdParamSchema),
    queryParams(deleteThemeAssetQuerySchema),
    async (c) => {
      const { id, assetId } = c.req.valid("param");
      const { force } = c.req.valid("query");
      const body = await deleteThemeAsset({ ctx: serviceContext(c), input: { groupId: id, assetId, force } });
      return c.json(body, 200);
    },
  );

  // Public: theme assets appear on sign-in pages. Served from the API origin with the blob
  // package's headers (nosniff, restrictive CSP, immutable caching, ETag = content hash).
  app.get(
    "/theme-assets/:assetId",
    describeRoute({
      summary: "A theme image's bytes",
      description: "Public and immutable (Cache-Control: immutable, ETag = sha256, If-None-Match → 304); nosniff and a restrictive CSP.",
      tags,
      access: "public (logos appear on sign-in pages)",
      responses: { 200: { description: "The image" }, 304: { description: "Not modified" } },
    }),
    pathParams(themeAssetServeParamSchema),
    async (c) => {
      const { assetId } = c.req.valid("param");
      const served = await serveThemeAsset({
        ctx: publicContext(c),
        input: { assetId, ifNoneMatch: c.req.header("if-none-match"), headOnly: c.req.method === "HEAD" },
      });
      if (served.status === 304) return c.body(null, 304, served.headers);
      return served.body ? c.body(served.body, 200, served.headers) : c.body(null, 200, served.headers);
    },
  );
}
