/**
 * The part of a server WebSocket the realtime layer needs. Bun's `ServerWebSocket` satisfies it;
 * `send` returns bytes sent, -1 when queued under backpressure, 0 when dropped.
 */
export interface RealtimeSocket {
  send(data: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
  /** 1 while open; 2 closing, 3 closed (Bun's `ServerWebSocket.readyState`). */
  readonly readyState: number;
}

/** What a redeemed ticket says about the connection being opened. */
export interface ConnectionData {
  connectionId: string;
  userId: string;
  activeGroupId: string | null;
}
