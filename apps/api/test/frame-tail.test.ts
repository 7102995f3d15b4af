import { describe, expect, test } from "bun:test";
import { FrameTail } from "../src/realtime/frame-tail.ts";

const after = (tail: FrameTail, offset: number) => {
  const sent: string[] = [];
  tail.sendAfter(offset, (frame) => sent.push(frame));
  return sent;
};

describe("a room feed's frame tail", () => {
  test("keeps the last frames by count, wrapping around its ring, and sends those after an offset in order", () => {
    const tail = new FrameTail(3, 1_000);
    tail.clear(1);
    expect(tail.reaches(0, 0)).toBe(true);
    for (let o = 1; o <= 7; o++) tail.push(o, `f${o}`);
    expect({ first: tail.first, count: tail.count }).toEqual({ first: 5, count: 3 });
    expect(after(tail, 4)).toEqual(["f5", "f6", "f7"]);
    expect(after(tail, 5)).toEqual(["f6", "f7"]);
    expect(after(tail, 7)).toEqual([]);
    expect(tail.reaches(4, 7)).toBe(true);
    expect(tail.reaches(3, 7)).toBe(false);
    expect(tail.reaches(4, 8)).toBe(false);
  });

  test("drops the oldest frames past the character bound, but always keeps the newest", () => {
    const tail = new FrameTail(10, 10);
    tail.push(1, "aaaa");
    tail.push(2, "bbbb");
    tail.push(3, "cc");
    expect({ first: tail.first, count: tail.count }).toEqual({ first: 1, count: 3 });
    tail.push(4, "dddd");
    expect(after(tail, 0)).toEqual(["bbbb", "cc", "dddd"]);
    tail.push(5, "x".repeat(50));
    expect({ first: tail.first, count: tail.count }).toEqual({ first: 5, count: 1 });
    expect(after(tail, 4)).toEqual(["x".repeat(50)]);
    tail.push(6, "y");
    expect(after(tail, 4)).toEqual(["y"]);
  });

  test("a frame that does not follow the last one, and a clear, start the tail over", () => {
    const tail = new FrameTail(4, 1_000);
    for (let o = 1; o <= 6; o++) tail.push(o, `f${o}`);
    tail.push(9, "f9");
    expect({ first: tail.first, count: tail.count }).toEqual({ first: 9, count: 1 });
    expect(after(tail, 0)).toEqual(["f9"]);
    tail.clear(20);
    expect({ first: tail.first, count: tail.count }).toEqual({ first: 20, count: 0 });
    expect(after(tail, 0)).toEqual([]);
    expect(tail.reaches(19, 19)).toBe(true);
    tail.push(20, "g20");
    tail.push(21, "g21");
    expect(after(tail, 19)).toEqual(["g20", "g21"]);
  });
});
