import { meResponseSchema } from "@raptscallions/core";
import { registerRouteDoc } from "./describe.ts";

/** Documentation for routes whose modules predate `describeRoute`. */
export function registerCoreRouteDocs(): void {
  registerRouteDoc("GET", "/api/me", {
    summary: "The signed-in user, with their groups and classes and their role in each",
    tags: ["me"],
    access: "any signed-in user",
    responses: { 200: { description: "The user", schema: meResponseSchema } },
  });
}
