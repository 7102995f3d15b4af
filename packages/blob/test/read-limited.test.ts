import { describe, expect, test } from "bun:test";
import { AppError } from "@raptscallions/core";
import { readLimited } from "../src/index.ts";
import { endlessStream, firstDifference, randomBytes, streamOf } from "./stream-helpers.ts";

describe("readLimited", () => {
  test("returns the whole body, byte for byte, when it is under or exactly at the limit", async () => {
    const bytes = randomBytes(200_000);
    expect(firstDifference(await readLimited(streamOf(bytes), 1_000_000), bytes)).toBeNull();
    expect(firstDifference(await readLimited(streamOf(bytes), 200_000), bytes)).toBeNull();
    expect((await readLimited(streamOf(new Uint8Array()), 0)).byteLength).toBe(0);
  });

  test("one byte over the limit is PAYLOAD_TOO_LARGE (413)", async () => {
    const err = await readLimited(streamOf(new Uint8Array(1001)), 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("PAYLOAD_TOO_LARGE");
    expect((err as AppError).status).toBe(413);
  });

  test("stops reading an endless body at the limit and cancels it", async () => {
    const { stream, stats } = endlessStream(1000);
    const err = await readLimited(stream, 10_000).catch((e: unknown) => e);
    expect((err as AppError).code).toBe("PAYLOAD_TOO_LARGE");
    expect(stats.cancelled).toBe(true);
    // Ten chunks reach the limit, the eleventh crosses it; nothing further was requested.
    expect(stats.pulls).toBe(11);
  });

  test("a source error reaches the caller unchanged", async () => {
    const boom = new Error("socket reset");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([1]));
        controller.error(boom);
      },
    });
    await expect(readLimited(stream, 100)).rejects.toBe(boom);
  });

  test("a chunk that is not bytes is BAD_REQUEST", async () => {
    // Typed as bytes, as an untyped producer would be; the chunk is a string at runtime.
    const stream = new ReadableStream<unknown>({
      start(controller) {
        controller.enqueue("not bytes");
        controller.close();
      },
    }) as ReadableStream<Uint8Array>;
    const err = await readLimited(stream, 100).catch((e: unknown) => e);
    expect((err as AppError).code).toBe("BAD_REQUEST");
  });

  test("a limit that is not a size is a programming error", async () => {
    await expect(readLimited(streamOf(new Uint8Array()), -1)).rejects.toThrow(RangeError);
    await expect(readLimited(streamOf(new Uint8Array()), 1.5)).rejects.toThrow(RangeError);
  });
});
