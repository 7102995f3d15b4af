// The event stream of one upstream attempt: bytes in, the `data:` lines' chat chunks out.
import { createParser } from "eventsource-parser";
import { ChunkReader } from "./chunk-reader.ts";
import type { GatewayUsage } from "./upstream.ts";

// The decoder's options for every read but the last: one object, not one per read.
const STREAM = { stream: true } as const;

/** The event-stream parse of one attempt's body: the bytes of each read in, what its `data:` lines carry out. */
export class EventReader {
  readonly #decoder = new TextDecoder();
  readonly #datas: string[] = [];
  readonly #parser = createParser({ onEvent: (event) => this.#datas.push(event.data) });
  readonly #chunks: ChunkReader;
  constructor(model: string) {
    this.#chunks = new ChunkReader(model);
  }
  /** One read (`null`: the body ended); `null` when it completed no event. */
  read(bytes: readonly Uint8Array[] | null): ReadChunks | null {
    // Per the SSE spec an event without its closing blank line at the end is discarded.
    if (bytes === null) this.#parser.feed(this.#decoder.decode());
    else for (const chunk of bytes) this.#parser.feed(this.#decoder.decode(chunk, STREAM));
    if (this.#datas.length === 0) return null;
    const read = readChunks(this.#datas, this.#chunks);
    this.#datas.length = 0;
    return read;
  }
}

/** What the `data:` lines of one read carry: their text joined, and the stream's other fields. */
export interface ReadChunks {
  text: string;
  /** `[DONE]` was read (the lines after it are ignored). */
  done: boolean;
  /** The error of a malformed or error chunk; the lines after it are ignored. */
  broken: unknown;
  model: string | null;
  usage: GatewayUsage | null;
  finishReason: string | null;
}

function readChunks(datas: readonly string[], chunks: ChunkReader): ReadChunks {
  const read: ReadChunks = { text: "", done: false, broken: null, model: null, usage: null, finishReason: null };
  for (const data of datas) {
    if (data === "[DONE]") {
      read.done = true;
      break;
    }
    let parsed: ReturnType<ChunkReader["read"]>;
    try {
      parsed = chunks.read(data);
    } catch (err) {
      read.broken = err;
      break;
    }
    if (parsed.model !== null) read.model = parsed.model;
    if (parsed.usage !== null) read.usage = parsed.usage;
    if (parsed.finishReason !== null) read.finishReason = parsed.finishReason;
    if (parsed.content !== null) read.text += parsed.content;
  }
  return read;
}
