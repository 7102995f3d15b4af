import { createServer, connect, type Socket } from "node:net";

/**
 * A TCP proxy in front of one API instance that a test can cut, like a dropped Wi-Fi link.
 *
 * Why it exists: Chromium's offline emulation (`context.setOffline(true)`) fails new requests but
 * leaves open WebSockets open — incoming frames are held and delivered in a burst when it goes
 * back online (checked with Chromium 156; playwright issue #4910). A page that only saw that
 * would never exercise reconnect and resume. Cutting here closes the page's socket for real;
 * tests do both, so the page also sees `navigator.onLine === false` and failing fetches.
 */
export interface CuttableProxy {
  /** Base URL to load pages through (http://127.0.0.1:<proxy port>). */
  url: string;
  /** Destroys every open connection and refuses new ones until {@link restore}. */
  cut(): void;
  restore(): void;
  /** Sockets (both sides) destroyed by cut() so far. */
  cutConnections: number;
  close(): Promise<void>;
}

export async function startCuttableProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy has no port");
  const proxy: CuttableProxy = {
    url: `http://127.0.0.1:${address.port}`,
    cutConnections: 0,
    cut() {
      refusing = true;
      for (const socket of open) {
        socket.destroy();
        proxy.cutConnections++;
      }
      open.clear();
    },
    restore() {
      refusing = false;
    },
    close() {
      proxy.cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
