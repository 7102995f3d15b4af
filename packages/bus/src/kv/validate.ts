import { AppError } from "@raptscallions/core";

/** Keys are non-empty strings of sane length; TTLs positive integers (milliseconds). */
export function assertKvInput(key: string, ttlMs?: number): void {
  if (typeof key !== "string" || key.length === 0 || key.length > 512) {
    throw new AppError("BAD_REQUEST", "Invalid key");
  }
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)) {
    throw new AppError("BAD_REQUEST", "TTL must be a positive integer of milliseconds");
  }
}
