import { piiFilter } from "./pii/pii-filter.ts";
import { safetyFilter } from "./safety/safety-filter.ts";
import { struggleDetector } from "./struggle/struggle-detector.ts";
import type { ContentModule } from "./types.ts";

/** The built-in modules, in run order. */
export const builtInModules: readonly ContentModule[] = [safetyFilter, piiFilter, struggleDetector];

/** Looks a module up by id among `modules` (default: the built-ins). */
export function getModule(id: string, modules: readonly ContentModule[] = builtInModules): ContentModule | undefined {
  return modules.find((m) => m.id === id);
}
