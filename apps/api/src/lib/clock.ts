/** Time and ids are injected so tests can control them. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface IdGenerator {
  uuid(): string;
  /** An opaque, URL-safe, unguessable token (tickets, request ids). */
  token(bytes?: number): string;
}
export const cryptoIds: IdGenerator = {
  uuid: () => crypto.randomUUID(),
  token: (bytes = 24) => {
    const buf = crypto.getRandomValues(new Uint8Array(bytes));
    return btoa(String.fromCharCode(...buf))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replaceAll("=", "");
  },
};
