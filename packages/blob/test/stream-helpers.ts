/** Random bytes of any length (getRandomValues fills at most 64 KiB per call). */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) {
    crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65536)));
  }
  return out;
}

/** Every byte value 0..255, `times` over, then descending, so order mistakes show too. */
export function everyByteValue(times = 4): Uint8Array {
  const out = new Uint8Array(256 * times + 256);
  for (let i = 0; i < 256 * times; i++) out[i] = i % 256;
  for (let i = 0; i < 256; i++) out[256 * times + i] = 255 - i;
  return out;
}

/** A stream yielding `bytes` in chunks of irregular sizes (cycling through `sizes`). */
export function streamOf(bytes: Uint8Array, sizes: number[] = [1, 7, 4096, 65537, 300_001]): ReadableStream<Uint8Array> {
  let at = 0;
  let turn = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      const size = sizes[turn++ % sizes.length] ?? 1;
      // Copy, so a consumer that keeps chunks cannot alias the source buffer.
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/** A stream that never ends; records how many chunks were pulled and whether it was cancelled. */
export function endlessStream(chunkSize: number): {
  stream: ReadableStream<Uint8Array>;
  stats: { pulls: number; cancelled: boolean };
} {
  const stats = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        stats.pulls++;
        controller.enqueue(new Uint8Array(chunkSize).fill(0x41));
      },
      cancel() {
        stats.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, stats };
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Byte equality that reports the first difference instead of dumping megabytes. */
export function firstDifference(a: Uint8Array, b: Uint8Array): string | null {
  if (a.byteLength !== b.byteLength) return `length ${a.byteLength} != ${b.byteLength}`;
  for (let i = 0; i < a.byteLength; i++) {
    if (a[i] !== b[i]) return `byte ${i}: ${a[i]} != ${b[i]}`;
  }
  return null;
}
