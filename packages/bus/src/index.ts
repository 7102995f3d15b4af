export type {
  Bus,
  BusErrorHandler,
  BusEvent,
  BusEventInput,
  BusListener,
  BusSignal,
  FrameListener,
  ReplayResult,
  ResetReason,
  ResyncReason,
  RoomHead,
  Unsubscribe,
} from "./types.ts";
export { createMemoryBus, type MemoryBusHub, type MemoryBusOptions } from "./memory-bus.ts";
export { createRedisBus, type RedisBus, type RedisBusOptions } from "./redis-bus.ts";
export {
  type FrameFollowListener,
  followRoom,
  followRoomFrames,
  type ResetMessage,
  type RoomFollower,
  subscribeWithResume,
  type ResumeFrom,
  type ResumeMessage,
  type ResumeOptions,
} from "./resume.ts";
export { connectRedis, connectRedisCluster, parseClusterNodes, type RedisClient, type RedisClusterConfig, whenReady } from "./redis-support.ts";
export { decodeEventFrame, eventFrame, wireBodyOf } from "./event-body.ts";
export { assertRoom, roomKeys } from "./room.ts";
export * from "./presence/index.ts";
export * from "./kv/index.ts";
