import { NotFoundError } from "@raptscallions/core";
import { type DbOrTx, users } from "@raptscallions/db";
import { and, eq, isNull } from "drizzle-orm";

/** The user by id unless deleted (anonymised); `NotFoundError` otherwise. */
export async function loadLiveUser(tx: DbOrTx, userId: string) {
  const [user] = await tx
    .select()
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)));
  if (!user) throw new NotFoundError("User");
  return user;
}
