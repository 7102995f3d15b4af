/** The result of an acknowledged `message.send` / `teacher.message` (or of a duplicate of one). */
export interface SendResult {
  messageId: string;
  answerId: string | null;
  duplicate: boolean;
}

/** A frame the server answered with `error` (its code from the one list in @raptscallions/core), or a lost connection. */
export class RealtimeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "RealtimeError";
  }
}

type SendType = "message.send" | "teacher.message";

interface PendingSend {
  frame: { type: SendType; sessionId: string; clientMessageId: string; content: string };
  resolve(r: SendResult): void;
  reject(e: Error): void;
}

/**
 * Sends that must arrive once: each stays here until acknowledged and is sent again after every
 * reconnect with the same `clientMessageId`, which the server stores once (`duplicate: true`).
 */
export class SendQueue {
  private readonly pending = new Map<string, PendingSend>();

  constructor(
    private readonly request: (frame: Record<string, unknown>) => Promise<unknown>,
    private readonly connected: () => boolean,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  add(type: SendType, input: { sessionId: string; content: string; clientMessageId?: string }): Promise<SendResult> {
    const clientMessageId = input.clientMessageId ?? crypto.randomUUID();
    const existing = this.pending.get(clientMessageId);
    if (existing) {
      // The same message sent again before its ack: one frame, both callers get the answer.
      return new Promise((resolve, reject) => {
        const prev = { resolve: existing.resolve, reject: existing.reject };
        existing.resolve = (r) => {
          prev.resolve(r);
          resolve(r);
        };
        existing.reject = (e) => {
          prev.reject(e);
          reject(e);
        };
      });
    }
    return new Promise((resolve, reject) => {
      const p: PendingSend = { frame: { type, sessionId: input.sessionId, clientMessageId, content: input.content }, resolve, reject };
      this.pending.set(clientMessageId, p);
      if (this.connected()) this.transmit(p);
    });
  }

  /** After `hello`: everything not yet acknowledged goes out again. */
  flush() {
    for (const p of this.pending.values()) this.transmit(p);
  }

  rejectAll(err: Error) {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private transmit(p: PendingSend) {
    this.request(p.frame).then(
      (result) => {
        this.pending.delete(p.frame.clientMessageId);
        const r = (result ?? {}) as Partial<SendResult>;
        p.resolve({ messageId: String(r.messageId), answerId: r.answerId ?? null, duplicate: r.duplicate === true });
      },
      (err: Error) => {
        // Lost with the connection: it stays pending and goes out again on the next `hello`.
        if (err instanceof RealtimeError && err.code === "DISCONNECTED") return;
        this.pending.delete(p.frame.clientMessageId);
        p.reject(err);
      },
    );
  }
}
