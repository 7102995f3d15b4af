export { backoffDelay, type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
export type { Observable } from "./observable.ts";
export {
  type ClientOptions,
  type ConnectionState,
  type ConnectionStatus,
  createClient,
  type RealtimeClient,
  RealtimeError,
  type SendResult,
  type WebSocketConstructor,
} from "./realtime.ts";
export { createDownload, createRest, type OperationName, operations, type RestCall, RestError, type RestInput, type RestResult } from "./rest.ts";
export {
  alertIdOf,
  type PresenceEntry,
  type RoomAlert,
  type RoomPosition,
  type RoomState,
  RoomStore,
  type RunActivity,
  type SessionActivity,
  type SessionDto,
} from "./room.ts";
