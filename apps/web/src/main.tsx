/** @jsxImportSource preact */
import "./styles.css";
import { createClient, type RealtimeClient } from "@raptscallions/client";
import type { MeResponse } from "@raptscallions/core";
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { type ConsoleConfig, currentToken, devToken, loadClerk, loadConfig, signOut } from "./auth.ts";
import { errorText, SignedContext } from "./context.ts";
import { Shell } from "./shell.tsx";
import { SignIn } from "./pages/sign-in.tsx";

type Phase =
  | { kind: "loading" }
  | { kind: "failed"; message: string }
  | { kind: "signed-out"; config: ConsoleConfig; reason?: string }
  | { kind: "signed-in"; config: ConsoleConfig; client: RealtimeClient; me: MeResponse };

async function signedIn(config: ConsoleConfig): Promise<Phase> {
  const client = createClient({ baseUrl: location.origin, getToken: currentToken });
  try {
    const me = await client.rest("getMe", {});
    client.connect();
    return { kind: "signed-in", config, client, me };
  } catch (err) {
    return { kind: "signed-out", config, reason: errorText(err) };
  }
}

async function boot(): Promise<Phase> {
  const config = await loadConfig();
  if (config.clerk) {
    const clerk = await loadClerk(config.clerk);
    return clerk.user ? signedIn(config) : { kind: "signed-out", config };
  }
  return devToken() ? signedIn(config) : { kind: "signed-out", config };
}

function App() {
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  useEffect(() => {
    boot().then(setPhase, (err: unknown) => setPhase({ kind: "failed", message: errorText(err) }));
  }, []);

  // A 4001 close or a refused token ends the session.
  useEffect(() => {
    if (phase.kind !== "signed-in") return;
    return phase.client.connection.subscribe((c) => {
      if (c.status === "signed-out") void leave("Your session ended; please sign in again.");
    });
  }, [phase]);

  async function leave(reason?: string) {
    if (phase.kind === "signed-in") phase.client.disconnect();
    await signOut();
    const config = phase.kind === "signed-in" || phase.kind === "signed-out" ? phase.config : await loadConfig();
    setPhase({ kind: "signed-out", config, reason });
  }

  const signed = useMemo(() => (phase.kind === "signed-in" ? { client: phase.client, me: phase.me, signOut: () => void leave() } : null), [phase]);

  if (phase.kind === "loading") {
    return (
      <main class="boot">
        <p role="status">Loading…</p>
      </main>
    );
  }
  if (phase.kind === "failed") {
    return (
      <main class="boot">
        <h1>The console could not start</h1>
        <p role="alert">{phase.message}</p>
      </main>
    );
  }
  if (phase.kind === "signed-out") {
    return <SignIn config={phase.config} reason={phase.reason} onSignedIn={() => void signedIn(phase.config).then(setPhase)} />;
  }
  return (
    <SignedContext.Provider value={signed}>
      <Shell />
    </SignedContext.Provider>
  );
}

const root = document.getElementById("root");
if (root) render(<App />, root);
