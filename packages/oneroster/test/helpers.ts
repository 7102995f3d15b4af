import type { RosterEntity, RosterPage, RosterSource } from "../src/index.ts";

/** Every page of one entity, and the records and rejections across them. */
export async function readAll<E extends RosterEntity>(source: RosterSource, entity: E, options: { since?: Date } = {}) {
  const pages: RosterPage<E>[] = [];
  for await (const page of source.read(entity, options)) pages.push(page);
  return { records: pages.flatMap((page) => page.records), rejected: pages.flatMap((page) => page.rejected), pages };
}

/** The promise's rejection, failing the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}
