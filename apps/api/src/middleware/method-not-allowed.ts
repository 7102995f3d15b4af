import { TrieRouter } from "hono/router/trie-router";

/**
 * Hono answers an unknown method on a known path with 404. To return 405 with `Allow`, index
 * every concrete route by path once and ask which methods the path would accept.
 */
export function allowedMethodsIndex(app: { routes: { method: string; path: string }[] }) {
  let router: TrieRouter<string> | undefined;
  return (path: string): string[] => {
    if (!router) {
      router = new TrieRouter<string>();
      for (const r of app.routes) {
        if (r.method === "ALL") continue;
        router.add("ALL", r.path, r.method);
      }
    }
    const [matches] = router.match("ALL", path);
    return [...new Set(matches.map(([method]) => method))].sort();
  };
}
