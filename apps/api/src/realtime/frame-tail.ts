/**
 * A room feed's last frames, so a joiner a few events behind is caught up without a replay: the
 * frames of offsets `first … first + count - 1` of the feed's current numbering, at most
 * `maxEvents` of them and (beyond the newest) at most `maxChars` characters.
 *
 * Every event of a room passes through `push` on every instance that watches it, so it is a ring
 * of fixed size: a frame is one slot written and at most one slot freed, no array grown, shifted or
 * compacted. A freed slot is cleared at once, so a long frame is not kept past its turn.
 */
export class FrameTail {
  /** Offset of the oldest frame kept (of the next frame expected while empty). */
  first = 0;
  count = 0;
  private chars = 0;
  // Allocated by the first frame: a feed that never carries one (a quiet room) keeps no ring.
  private ring: (string | undefined)[] | null = null;
  // Slot of the frame at `first`.
  private start = 0;

  private readonly maxEvents: number;

  constructor(
    maxEvents: number,
    private readonly maxChars: number,
  ) {
    // The newest frame is always kept.
    this.maxEvents = Math.max(1, Math.floor(maxEvents));
  }

  /** Empties the tail; the next frame kept is expected at `next`. */
  clear(next: number): void {
    if (this.count > 0) this.ring?.fill(undefined);
    this.first = next;
    this.count = 0;
    this.chars = 0;
    this.start = 0;
  }

  /** Keeps `frame` as offset `offset`; a frame that does not follow the last one starts the tail over. */
  push(offset: number, frame: string): void {
    if (this.count === 0 || offset !== this.first + this.count) this.clear(offset);
    this.ring ??= new Array<string | undefined>(this.maxEvents);
    const ring = this.ring;
    if (this.count === this.maxEvents) this.dropOldest(ring);
    let slot = this.start + this.count;
    if (slot >= this.maxEvents) slot -= this.maxEvents;
    ring[slot] = frame;
    this.count += 1;
    this.chars += frame.length;
    while (this.count > 1 && this.chars > this.maxChars) this.dropOldest(ring);
  }

  /** Whether every frame after `offset` up to `last` is kept (`offset` itself may be just before the tail). */
  reaches(offset: number, last: number): boolean {
    return this.first + this.count - 1 === last && offset + 1 >= this.first;
  }

  /** Calls `send` with each kept frame after `offset`, oldest first. */
  sendAfter(offset: number, send: (frame: string) => void): void {
    const ring = this.ring;
    if (ring === null) return;
    for (let o = Math.max(offset + 1, this.first); o < this.first + this.count; o++) {
      let slot = this.start + (o - this.first);
      if (slot >= this.maxEvents) slot -= this.maxEvents;
      send(ring[slot] ?? "");
    }
  }

  private dropOldest(ring: (string | undefined)[]): void {
    this.chars -= ring[this.start]?.length ?? 0;
    ring[this.start] = undefined;
    this.start = this.start + 1 === this.maxEvents ? 0 : this.start + 1;
    this.first += 1;
    this.count -= 1;
  }
}
