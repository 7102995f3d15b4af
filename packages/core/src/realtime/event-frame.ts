/**
 * The `event` frame of the realtime protocol as JSON text, built from the event's body JSON
 * (`{"type":T,"payload":P,"at":A}`, what the bus stores) with the room fields spliced in front:
 * `{"type":"event","room":R,"epoch":E,"offset":N,"event":T,"payload":P,"at":A}`. The payload is
 * never parsed or stringified again. The Redis bus builds the same bytes inside its publish
 * script (see packages/bus), so a frame is equal whether it came live or from a replay.
 */
export function encodeEventFrame(room: string, epoch: string, offset: number, bodyJson: string): string {
  if (!bodyJson.startsWith(EVENT_BODY_PREFIX)) throw new Error("event body must start with its type");
  return `${eventFrameHead(room)}${JSON.stringify(epoch)},"offset":${offset},"event":${bodyJson.slice(EVENT_BODY_PREFIX.length)}`;
}

/** How every event body starts (`JSON.stringify({ type, … })`). */
export const EVENT_BODY_PREFIX = '{"type":';

/** The frame's fixed start for a room, up to the epoch's value. */
export function eventFrameHead(room: string): string {
  return `{"type":"event","room":${JSON.stringify(room)},"epoch":`;
}

const EVENT_KEY = ',"event":"';

/**
 * True when `frame` (an `event` frame) carries an event of `type`, read without parsing the
 * frame: a listener that wants one kind of event skips the rest for the price of an `indexOf`.
 * The first `,"event":"` is the event's own: the room and epoch before it are JSON strings, in
 * which a quote is always escaped, so the sequence cannot occur inside them.
 */
export function isEventFrameOfType(frame: string, type: string): boolean {
  const at = frame.indexOf(EVENT_KEY);
  if (at < 0) return false;
  const start = at + EVENT_KEY.length;
  return frame.startsWith(type, start) && frame.charCodeAt(start + type.length) === 34;
}
