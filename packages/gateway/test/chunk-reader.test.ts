import { describe, expect, test } from "bun:test";
import { ChunkReader } from "../src/chunk-reader.ts";
import { parseChunk } from "../src/upstream.ts";

const chunk = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: "c-1", object: "chat.completion.chunk", created: 7, model: "m/up", choices: [{ index: 0, delta: { content }, finish_reason: null }], ...extra });

/** What the reader makes of `data`, or the error message it throws: the same as parseChunk's. */
function both(reader: ChunkReader, data: string) {
  const run = (f: () => unknown) => {
    try {
      return { ok: f() };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  };
  return { reader: run(() => reader.read(data)), full: run(() => parseChunk(data, "m")) };
}

function expectSame(reader: ChunkReader, data: string) {
  const { reader: got, full } = both(reader, data);
  expect(got).toEqual(full);
}

describe("ChunkReader", () => {
  test("learns the content chunk and reads later ones exactly as a full parse would", () => {
    const reader = new ChunkReader("m");
    expectSame(reader, chunk("Hello"));
    expect(reader.templated).toBe(true);
    for (const text of [
      " world",
      "",
      'a"quote',
      "back\\slash",
      "line\nbreak",
      "tab\there",
      "é ü 中文 🙂",
      "\u2028",
      '"},"finish_reason":null}]}',
      "\\",
      "x".repeat(5000),
    ]) {
      expectSame(reader, chunk(text));
    }
    const read = reader.read(chunk("na\u00efve"));
    expect(read).toEqual({ content: "na\u00efve", finishReason: null, usage: null, model: "m/up" });
  });

  test("a chunk that only looks like the template but is not valid JSON fails as before", () => {
    const reader = new ChunkReader("m");
    reader.read(chunk("Hello"));
    const good = chunk("PLACE");
    const at = good.indexOf("PLACE");
    const around = (inside: string) => good.slice(0, at) + inside + good.slice(at + "PLACE".length);
    for (const inside of ['a"b', "a\\", "a\\q", "a\u0001b", 'x","content":"y']) {
      const { reader: got, full } = both(reader, around(inside));
      expect(got).toEqual(full);
    }
    expect(() => reader.read(around('a"b'))).toThrow("malformed chunk");
  });

  test("finish, usage, error and other-shaped chunks take the full parse", () => {
    const reader = new ChunkReader("m");
    reader.read(chunk("Hello"));
    expectSame(
      reader,
      JSON.stringify({ id: "c-1", object: "chat.completion.chunk", created: 7, model: "m/up", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
    );
    expectSame(reader, JSON.stringify({ id: "c-1", choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }));
    expectSame(reader, chunk("x", { usage: { prompt_tokens: 3, completion_tokens: 4 } }));
    expectSame(
      reader,
      JSON.stringify({ id: "c-2", object: "chat.completion.chunk", created: 8, model: "m/other", choices: [{ index: 0, delta: { content: "y" }, finish_reason: null }] }),
    );
    expect(() => reader.read(JSON.stringify({ error: { message: "boom", code: 502 } }))).toThrow("error mid-stream");
    expectSame(reader, "{not json");
  });

  test("spaces around the colon (Python-style encoders) are learnt too", () => {
    const reader = new ChunkReader("m");
    const spaced = (t: string) => `{"id": "c", "model": "m/up", "choices": [{"index": 0, "delta": {"content" : ${JSON.stringify(t)}}, "finish_reason": null}]}`;
    expectSame(reader, spaced("one"));
    expect(reader.templated).toBe(true);
    expectSame(reader, spaced('two "q"'));
  });

  test("a content key elsewhere in the chunk is never learnt", () => {
    const reader = new ChunkReader("m");
    // The last "content" key in the text belongs to another object: its place is not the delta's.
    const dup = (t: string) => `{"id":"c","model":"m/up","choices":[{"index":0,"delta":{"content":"kept","x":{"content":${JSON.stringify(t)}}},"finish_reason":null}]}`;
    expectSame(reader, dup("one"));
    expect(reader.templated).toBe(false);
    expectSame(reader, dup("two"));
    expect(reader.read(dup("three")).content).toBe("kept");
  });
});

describe("ChunkReader, first chunk unlike the rest", () => {
  test("a role beside the first content is relearnt from the next chunk", () => {
    const reader = new ChunkReader("m");
    const first = JSON.stringify({ id: "c", model: "m/up", choices: [{ index: 0, delta: { role: "assistant", content: "Hi" }, finish_reason: null }] });
    expectSame(reader, first);
    expectSame(reader, chunk("there"));
    expectSame(reader, chunk(" again"));
    expect(reader.templated).toBe(true);
    expect(reader.read(chunk(" more")).content).toBe(" more");
  });
});
