/** @jsxImportSource preact */
import type { ResolvedTheme } from "@raptscallions/core";
import { useEffect, useState } from "preact/hooks";
import { rolesOf, useSigned } from "./context.ts";
import { useObservable } from "./hooks.ts";
import { AdminPage } from "./pages/admin.tsx";
import { ClassLive } from "./pages/class-live.tsx";
import { Home } from "./pages/home.tsx";
import { ProductsPage } from "./pages/products.tsx";
import { RunPage } from "./pages/run-view.tsx";
import { SessionPage } from "./pages/session.tsx";
import { Link, match, usePath } from "./router.tsx";
import { applyTheme } from "./theme.ts";

/** The badge the connection's state shows as: connecting, live, resyncing or offline. */
export function ConnectionBadge() {
  const { client } = useSigned();
  const c = useObservable(client.connection);
  const state = c.status === "live" ? "live" : c.status === "resyncing" ? "resyncing" : c.status === "offline" || c.status === "signed-out" ? "offline" : "connecting";
  const label = { live: "Live", resyncing: "Catching up…", offline: "Offline — reconnecting…", connecting: "Connecting…" }[state];
  return (
    <span class={`badge conn-${state}`} data-testid="connection-state" data-state={state} role="status" aria-label={`Connection: ${label}`}>
      {state}
    </span>
  );
}

/** The group whose theme the console wears: the first class's group, else the active or first group. */
function themeGroupOf(me: ReturnType<typeof useSigned>["me"]): string | null {
  return me.classes[0]?.groupId ?? me.activeGroupId ?? me.groups[0]?.id ?? null;
}

export function Shell() {
  const { client, me, signOut } = useSigned();
  const path = usePath();
  const roles = rolesOf(me);
  const [theme, setTheme] = useState<ResolvedTheme | null>(null);
  const groupId = themeGroupOf(me);

  useEffect(() => {
    if (!groupId) return;
    client.rest("getGroupTheme", { params: { id: groupId } }).then(
      (t) => {
        setTheme(t);
        applyTheme(document.documentElement, t.theme);
        const icon = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
        if (icon && t.theme.assets.favicon) icon.href = t.theme.assets.favicon.url;
      },
      () => setTheme(null), // the default look stays
    );
  }, [groupId]);

  useEffect(() => {
    // Move focus to the new page's heading, so keyboard and screen-reader users land on it.
    document.querySelector<HTMLElement>("main h1")?.focus();
  }, [path]);

  const logo = theme?.theme.assets.logo;
  const groupName = me.groups.find((g) => g.id === groupId)?.name ?? "raptscallions";
  let page;
  let params: Record<string, string> | null;
  if ((params = match("/sessions/:id", path))) page = <SessionPage key={params.id} sessionId={params.id ?? ""} />;
  else if ((params = match("/classes/:id", path))) page = <ClassLive key={params.id} classId={params.id ?? ""} />;
  else if ((params = match("/runs/:id", path))) page = <RunPage key={params.id} runId={params.id ?? ""} />;
  else if (match("/products", path)) page = <ProductsPage />;
  else if (match("/admin", path)) page = <AdminPage />;
  else page = <Home />;

  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link to="/" class="brand">
          {logo ? <img src={logo.url} alt={`${groupName} logo`} height={32} /> : null}
          <span>raptscallions</span>
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link to="/" aria-current={path === "/" ? "page" : undefined}>
                Home
              </Link>
            </li>
            {me.classes.length > 0 || roles.isAdmin ? (
              <li>
                <Link to="/products" aria-current={path === "/products" ? "page" : undefined}>
                  Product tools
                </Link>
              </li>
            ) : null}
            {roles.isAdmin ? (
              <li>
                <Link to="/admin" aria-current={path === "/admin" ? "page" : undefined}>
                  Admin
                </Link>
              </li>
            ) : null}
          </ul>
        </nav>
        <ConnectionBadge />
        <span class="who">{me.user.name ?? me.user.email}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main">{page}</main>
    </div>
  );
}
