import type { Clock } from "./clock.ts";

/**
 * Fires when the upstream has been silent too long and aborts the attempt. One timer per attempt;
 * moving the deadline is an assignment, so the hot path pays nothing per chunk.
 */
export class Watchdog {
  fired: "first_token" | "idle" | null = null;
  /** Set while the consumer holds the deltas: its time is not upstream silence. */
  busy = false;
  #deadline: number;
  #firesAt: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #idle = false;
  constructor(
    private readonly clock: Clock,
    private readonly controller: AbortController,
    firstTokenMs: number,
    private readonly idleMs: number,
  ) {
    this.#deadline = clock.now() + firstTokenMs;
    this.#firesAt = this.#deadline;
    this.#timer = setTimeout(this.#check, firstTokenMs);
  }
  /** Data arrived (and was handed to the consumer) after the first token: restart the idle window. */
  touch(now: number): void {
    this.#idle = true;
    this.#deadline = now + this.idleMs;
    // Only the switch from the first-token window to a shorter idle window needs a new timer;
    // later deadlines only move forward and are picked up when the timer fires.
    if (this.#deadline < this.#firesAt && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#arm(this.idleMs);
    }
  }
  #arm(ms: number): void {
    this.#firesAt = this.clock.now() + ms;
    this.#timer = setTimeout(this.#check, ms);
  }
  #check = (): void => {
    if (this.busy) {
      this.#arm(this.idleMs);
      return;
    }
    const left = this.#deadline - this.clock.now();
    if (left > 0) {
      this.#arm(left);
      return;
    }
    this.#timer = undefined;
    this.fired = this.#idle ? "idle" : "first_token";
    this.controller.abort(new DOMException("The AI service went silent", "TimeoutError"));
  };
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
