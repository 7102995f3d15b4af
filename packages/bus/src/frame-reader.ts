// The receiving end of the room channels: reads a pub/sub message as Redis delivered it (bytes)
// on the hot path of every watching instance, once per event and room, whatever the watchers.
import { encodeEventFrame } from "@raptscallions/core";

const NEWLINE = 10;
const F = 102; // 'f': an event message carrying its frame
const E = 101; // 'e': an event message of the previous version, carrying the body
const R = 114; // 'r': the room's numbering restarted

/**
 * Reads `f\n<epoch>\n<offset>\n<frame>` (what the publish script sends), `e\n<epoch>\n<offset>\n<body>`
 * (a node of the previous version; its frame is built here) and `r\n<epoch>` from the bytes
 * ioredis hands over, so that the only string made per event is the frame the sockets are sent:
 * no string of the whole message, no slices of it, no object per message. The results of the last
 * `read` are this reader's fields until the next one.
 *
 * The epoch is the same few dozen bytes in every message of a room until its numbering restarts:
 * it is compared in place with the last one seen for the room, and that string is handed on again,
 * so a follower's epoch check compares a string with itself.
 */
export class FrameReader {
  epoch = "";
  offset = 0;
  frame = "";
  // Per room: the last epoch as the string handed on, and as the bytes it is compared with.
  private readonly epochs = new Map<string, { text: string; bytes: Buffer }>();

  /** Reads one message of `room`'s channel: "frame" (fields set) or "resync"; throws on anything else. */
  read(room: string, message: Buffer): "frame" | "resync" {
    const kind = message[0];
    if (message[1] !== NEWLINE || (kind !== F && kind !== E && kind !== R)) throw new Error("not a bus message");
    if (kind === R) return "resync";
    const first = message.indexOf(NEWLINE, 2);
    const second = first < 0 ? -1 : message.indexOf(NEWLINE, first + 1);
    if (second < 0) throw new Error("not an event message");
    this.offset = digitsAt(message, first + 1, second);
    this.epoch = this.epochAt(room, message, first);
    const rest = message.toString("utf8", second + 1);
    this.frame = kind === F ? rest : encodeEventFrame(room, this.epoch, this.offset, rest);
    return "frame";
  }

  /** Drops what is kept for a room this node no longer listens to. */
  forget(room: string): void {
    this.epochs.delete(room);
  }

  // Compared in place with one native call, so an epoch already seen makes no string; a copy of
  // its bytes is kept, not a view into the read buffer ioredis sliced the message from.
  private epochAt(room: string, message: Buffer, end: number): string {
    const last = this.epochs.get(room);
    if (last !== undefined && last.bytes.length === end - 2 && message.compare(last.bytes, 0, last.bytes.length, 2, end) === 0) return last.text;
    const bytes = Buffer.from(message.subarray(2, end));
    const text = bytes.toString("utf8");
    this.epochs.set(room, { text, bytes });
    return text;
  }
}

/** A positive decimal integer from `bytes[from, to)`. */
function digitsAt(bytes: Uint8Array, from: number, to: number): number {
  if (to === from || to - from > 15) throw new Error("bad offset");
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = (bytes[i] ?? 0) - 48;
    if (digit < 0 || digit > 9) throw new Error("bad offset");
    value = value * 10 + digit;
  }
  if (value < 1) throw new Error("bad offset");
  return value;
}
