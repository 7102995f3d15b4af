/** @jsxImportSource preact */
import { useEffect, useRef, useState } from "preact/hooks";
import { clerkInstance, type ConsoleConfig, devSignIn, type DevUserChoice, listDevUsers } from "../auth.ts";
import { errorText } from "../context.ts";

export function SignIn(props: { config: ConsoleConfig; reason?: string | undefined; onSignedIn(): void }) {
  return (
    <main class="signin" id="main">
      <h1>Sign in to raptscallions</h1>
      {props.reason ? <p role="alert">{props.reason}</p> : null}
      {props.config.clerk ? <ClerkSignIn onSignedIn={props.onSignedIn} /> : <DevPicker config={props.config} onSignedIn={props.onSignedIn} />}
    </main>
  );
}

function DevPicker(props: { config: ConsoleConfig; onSignedIn(): void }) {
  const [users, setUsers] = useState<DevUserChoice[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  useEffect(() => {
    if (!props.config.devSignIn) return;
    listDevUsers().then(setUsers, (err: unknown) => setError(errorText(err)));
  }, [props.config.devSignIn]);

  if (!props.config.devSignIn) {
    return <p role="alert">Sign-in is not configured on this server (no Clerk keys, and dev sign-in is off).</p>;
  }
  async function pick(key: string) {
    setBusy(key);
    setError(null);
    try {
      await devSignIn(key);
      props.onSignedIn();
    } catch (err) {
      setError(errorText(err));
      setBusy(null);
    }
  }
  return (
    <section aria-labelledby="dev-heading">
      <h2 id="dev-heading">Dev sign-in: choose a seeded user</h2>
      <p>This server runs on dev auth. Pick who to be; each tab keeps its own sign-in.</p>
      {error ? <p role="alert">{error}</p> : null}
      {users === null && !error ? <p role="status">Loading users…</p> : null}
      <ul class="picker">
        {(users ?? []).map((u) => (
          <li key={u.key}>
            <button type="button" data-testid={`signin-${u.key}`} disabled={busy !== null} onClick={() => void pick(u.key)}>
              <span class="name">{u.name}</span>
              <span class="detail">
                {u.key} · {u.role}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ClerkSignIn(props: { onSignedIn(): void }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const clerk = clerkInstance();
    if (!clerk || !el.current) return;
    clerk.mountSignIn(el.current);
    clerk.addListener(() => {
      if (clerk.user) props.onSignedIn();
    });
  }, []);
  return <div ref={el} aria-label="Clerk sign-in" />;
}
