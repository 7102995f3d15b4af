// What the Redis bus keeps and sends in Redis: the Lua scripts that number, store and fan out a
// room's events, and the parsers of their replies (pub/sub messages are read by frame-reader.ts).
import { decodeBody, rememberWireBody } from "./event-body.ts";
import { defineScript, type LuaScript } from "./redis-support.ts";
import type { BusEvent, RoomHead } from "./types.ts";

/**
 * The scripts of one pub/sub flavour: PUBLISH on a single Redis, SPUBLISH (sharded pub/sub) on a
 * Redis Cluster. SPUBLISH inside a script is allowed because the channel carries the room's hash
 * tag, so it lives in the slot of the keys the script declares.
 */
export interface RoomScripts {
  publish: LuaScript;
  rotate: LuaScript;
}

export function roomScripts(sharded: boolean): RoomScripts {
  return sharded ? SHARDED : PLAIN;
}

// Counter, log append and fan-out in one atomic step per room: offsets are dense, the stream id
// *is* the offset (`<offset>-0`), and because PUBLISH runs inside the script every subscriber
// receives a room's messages in offset order. A missing counter next to an existing log means the
// counter was lost (eviction, partial flush): the log is dropped so the new epoch starts clean.
//
// The log keeps the body; the message carries the protocol's `event` frame, built here because
// only here are epoch and offset known. The room and its channel are read off the room's meta key
// (`<prefix>{<room>}:meta`, see `roomKeys`), so the caller sends neither: a room name needs no JSON
// escaping (`assertRoom`), so `"<room>"` is its JSON. The body's `{"type":` (8 characters) becomes
// `"event":`. This is `encodeEventFrame` byte for byte (epochs are UUIDs: their JSON is the text
// in quotes). In front, `f\n<epoch>\n<offset>\n`: a subscriber reads the position without parsing
// JSON and hands the rest to sockets as it is.
//
// One call publishes to any number of rooms (a node sends the publishes of one event-loop turn
// together; on a Cluster always one room, as a script's keys must share a slot). KEYS: each room's
// meta and log. ARGV: MAXLEN and the TTL, then per room a fresh epoch (used only if the room has
// none), the body, and the epoch the caller last saw for the room ('' for none). The reply has one
// entry per room, in order: the offset alone when that epoch is still the room's (every publish
// but a room's first on this node and after a renumbering), else `{epoch, offset}`, or the error
// that room's commands raised. Each room runs under its own pcall, so one room's failure (a key of
// the wrong type) neither stops nor undoes the others'.
const PUBLISH = `
local function publish(meta, log, fresh, body, known)
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then
    epoch = fresh
    redis.call('DEL', log)
    redis.call('HSET', meta, 'epoch', epoch, 'seq', 0)
  end
  local offset = redis.call('HINCRBY', meta, 'seq', 1)
  local n = string.format('%d', offset)
  redis.call('XADD', log, 'MAXLEN', '~', ARGV[1], n .. '-0', 'e', body)
  redis.call('PEXPIRE', meta, ARGV[2])
  redis.call('PEXPIRE', log, ARGV[2])
  local tag = string.sub(meta, 1, -6)
  local room = string.match(tag, '{([^{}]*)}$')
  redis.call('PUBLISH', tag .. ':ch', 'f\\n' .. epoch .. '\\n' .. n .. '\\n' .. '{"type":"event","room":"' .. room .. '","epoch":"' .. epoch .. '","offset":' .. n .. ',"event":' .. string.sub(body, 9))
  if epoch == known then return offset end
  return {epoch, n}
end
local replies = {}
for i = 1, #KEYS / 2 do
  local a = 3 * i
  local ok, reply = pcall(publish, KEYS[2 * i - 1], KEYS[2 * i], ARGV[a], ARGV[a + 1], ARGV[a + 2])
  if ok then
    replies[i] = reply
  elseif type(reply) == 'table' and reply.err then
    replies[i] = reply
  else
    replies[i] = redis.error_reply(tostring(reply))
  end
end
return replies
`;

// Starts a new numbering for a room and tells every subscribed node to resync. Used after this
// node delivered events locally that the other nodes never saw.
const ROTATE = `
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], 'r\\n' .. ARGV[1])
return 1
`;

const withCommand = (source: string, command: "PUBLISH" | "SPUBLISH") => defineScript(source.replace("redis.call('PUBLISH'", `redis.call('${command}'`));
const PLAIN: RoomScripts = { publish: defineScript(PUBLISH), rotate: defineScript(ROTATE) };
const SHARDED: RoomScripts = { publish: withCommand(PUBLISH, "SPUBLISH"), rotate: withCommand(ROTATE, "SPUBLISH") };

/**
 * One room's entry in the publish script's reply: the offset alone means the room is still in
 * `knownEpoch`; an error is that room's failure.
 */
export function parsePublishReply(reply: unknown, knownEpoch: string | undefined): [string, number] {
  if (typeof reply === "number" && knownEpoch !== undefined && Number.isSafeInteger(reply) && reply > 0) return [knownEpoch, reply];
  if (Array.isArray(reply) && typeof reply[0] === "string" && reply[1] !== undefined) {
    const offset = Number(reply[1]);
    if (Number.isSafeInteger(offset)) return [reply[0], offset];
  }
  if (reply instanceof Error) throw reply;
  throw new Error("unexpected reply from publish script");
}

export type ExecEntry = [Error | null, unknown] | undefined;

export function parseHead(entry: ExecEntry): RoomHead {
  if (!entry) throw new Error("replay transaction aborted");
  if (entry[0]) throw entry[0];
  const [epoch, seq] = entry[1] as [string | null, string | null];
  return epoch ? { epoch, offset: Number(seq ?? 0) } : { epoch: null, offset: 0 };
}

export function parseEntries(room: string, epoch: string, entry: ExecEntry): BusEvent[] {
  if (!entry) throw new Error("replay transaction aborted");
  if (entry[0]) throw entry[0];
  const rows = entry[1] as Array<[string, string[]]>;
  return rows.map(([id, fields]) => {
    const body = fields[fields.indexOf("e") + 1];
    if (body === undefined) throw new Error(`stream entry ${id} has no body`);
    return rememberWireBody({ room, epoch, offset: Number.parseInt(id, 10), ...decodeBody(body) }, body);
  });
}
