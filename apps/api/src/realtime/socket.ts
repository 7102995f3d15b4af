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
  /** Joins a topic: from now on every `TopicPublisher.publish` to it reaches this socket. */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/**
 * Sends one frame to every socket subscribed to a topic on this instance, in native code (Bun's
 * `server.publish`). Returns bytes sent; -1 when some subscriber is under backpressure (the frame
 * is queued for it); 0 when it was dropped for some subscriber or nobody listens.
 */
export interface TopicPublisher {
  publish(topic: string, data: string): number;
}

/** What a redeemed ticket says about the connection being opened. */
export interface ConnectionData {
  userId: string;
  activeGroupId: string | null;
}
