/**
 * What the baselines publish: a plan replaying an app run (per room, each event's delay, frame size
 * and name) and the event frame itself, shaped like the app's `message.delta` frame. Shared by the
 * Bun relay and the Socket.IO server (which runs on Node, so nothing here may use Bun's APIs).
 */

export interface PublishPlan {
  paced: boolean;
  rooms: { room: string; events: { delayMs: number; bytes: number; event: string }[] }[];
}

/** Messages published verbatim, each room's in order, unpaced: the relay's `POST /replay`. */
export interface ReplayPlan {
  rooms: { channel: string; messages: string[] }[];
}

export interface EventFrame {
  type: "event";
  room: string;
  epoch: string;
  offset: number;
  event: string;
  payload: { messageId: string; charOffset: number; text: string };
  /** Stamped when the frame is built, just before it is published; `at` stays the last key. */
  at: string;
}

/** An event frame whose JSON is `bytes` long (or the bare frame, if that is already longer). */
export function eventFrame(room: string, epoch: string, offset: number, event: string, charOffset: number, bytes: number, messageId: string): EventFrame {
  const make = (text: string): EventFrame => ({ type: "event", room, epoch, offset, event, payload: { messageId, charOffset, text }, at: new Date().toISOString() });
  const bare = JSON.stringify(make("")).length;
  const pad = Math.max(0, bytes - bare);
  return make(" word".repeat(Math.ceil(pad / 5)).slice(0, pad));
}
