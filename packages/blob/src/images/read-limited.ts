import { AppError } from "@raptscallions/core";

/**
 * Reads `stream` to the end into one Uint8Array, refusing with AppError PAYLOAD_TOO_LARGE (413)
 * as soon as more than `maxBytes` have arrived. At most `maxBytes` plus the one chunk that
 * crossed the limit are ever held; the stream is then cancelled so the producer (an upload
 * body) stops being read instead of being drained into memory.
 */
export async function readLimited(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  }
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Web streams are untyped at runtime: a string chunk would otherwise be counted by
      // `.length` in UTF-16 units and copied wrongly.
      if (!(value instanceof Uint8Array)) {
        throw new AppError("BAD_REQUEST", "Body stream produced a non-binary chunk");
      }
      total += value.byteLength;
      if (total > maxBytes) {
        throw new AppError("PAYLOAD_TOO_LARGE", `Body is larger than ${maxBytes} bytes`, {
          details: { maxBytes },
        });
      }
      chunks.push(value);
    }
  } catch (err) {
    chunks.length = 0;
    // Cancelling tells the source to stop; its own failure must not mask ours.
    await reader.cancel(err).catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
  }
  return concat(chunks, total);
}

/** Concatenates chunks (`total`: their length, when already known); one whole chunk is returned as it is. */
export function concat(chunks: readonly Uint8Array[], total = chunks.reduce((n, c) => n + c.byteLength, 0)): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined && chunks[0].byteLength === total) {
    return chunks[0];
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
