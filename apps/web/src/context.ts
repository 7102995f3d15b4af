import type { RealtimeClient } from "@raptscallions/client";
import type { MeResponse } from "@raptscallions/core";
import { createContext } from "preact";
import { useContext } from "preact/hooks";

/** What every signed-in page needs: the one client (REST + realtime) and who is signed in. */
export interface Signed {
  client: RealtimeClient;
  me: MeResponse;
  signOut(): void;
}

export const SignedContext = createContext<Signed | null>(null);

export function useSigned(): Signed {
  const v = useContext(SignedContext);
  if (!v) throw new Error("useSigned outside a signed-in page");
  return v;
}

/** Where the signed-in person stands, for navigation and the home page. */
export function rolesOf(me: MeResponse) {
  const teaching = me.classes.filter((c) => c.role === "teacher");
  const studying = me.classes.filter((c) => c.role === "student");
  const adminOf = me.groups.filter((g) => g.role === "admin");
  return { teaching, studying, adminOf, isAdmin: me.user.isSystemAdmin || adminOf.length > 0 };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
