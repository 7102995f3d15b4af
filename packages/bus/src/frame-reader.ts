// The receiving end of the room channels: reads a pub/sub message as Redis delivered it (bytes)
// on the hot path of every watching instance, once per event and room, whatever the watchers.
import { encodeEventFrame } from "@raptscallions/core";

const NEWLINE = 10;
const F = 102; // 'f': an event message carrying its frame
const E = 101; // 'e': an event message of the previous version, carrying the body
const R = 114; // 'r': the room's numbering restarted

/**
 * Reads one room's channel: `f\n<epoch>\n<offset>\n<frame>` (what the publish script sends),
 * `e\n<epoch>\n<offset>\n<body>` (a node of the previous version; its frame is built here) and
 * `r\n<epoch>` from the bytes ioredis hands over, so that the only string made per event is the
 * frame the sockets are sent: no string of the whole message, no slices of it, no object per
 * message. The results of the last `read` are this reader's fields until the next one.
 *
 * A subscriber keeps one reader per subscribed channel, found with the one map lookup that finds
 * the channel's room. The epoch is the same few dozen bytes in every message of a room until its
 * numbering restarts: it is compared in place with the last one seen, and that string is handed on
 * again, so a follower's epoch check compares a string with itself.
 */
export class FrameReader {
  epoch = "";
  offset = 0;
  frame = "";
  // The last epoch as the bytes it is compared with (`epoch` is the same as a string).
  private epochBytes: Buffer | null = null;

  constructor(readonly room: string) {}

  /** Reads one message of the room's channel: "frame" (fields set) or "resync"; throws on anything else. */
  read(message: Buffer): "frame" | "resync" {
    const kind = message[0];
    if (message[1] !== NEWLINE || (kind !== F && kind !== E && kind !== R)) throw new Error("not a bus message");
    if (kind === R) return "resync";
    const first = message.indexOf(NEWLINE, 2);
    const second = first < 0 ? -1 : message.indexOf(NEWLINE, first + 1);
    if (second < 0) throw new Error("not an event message");
    this.offset = digitsAt(message, first + 1, second);
    // Compared in place with one native call, so an epoch already seen makes no string; a copy of
    // its bytes is kept, not a view into the read buffer ioredis sliced the message from.
    const last = this.epochBytes;
    if (last === null || last.length !== first - 2 || message.compare(last, 0, last.length, 2, first) !== 0) {
      const bytes = Buffer.from(message.subarray(2, first));
      this.epochBytes = bytes;
      this.epoch = bytes.toString("utf8");
    }
    const rest = message.toString("utf8", second + 1);
    this.frame = kind === F ? rest : encodeEventFrame(this.room, this.epoch, this.offset, rest);
    return "frame";
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
