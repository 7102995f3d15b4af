/**
 * Bun's native share of an idle socket under the app's WebSocket options and under the relay's
 * (bench/live/relay.ts sets only `idleTimeout`): a bare `Bun.serve` in a child process (nothing of
 * the app loaded) upgrades `BENCH_IDLE_SOCKETS` sockets opened by this process, each with the same
 * one-field `data`, and reports its RSS after full collections before and after. What
 * differs between the two rows is what the options cost per socket.
 *   bun bench/idle/native-socket.ts
 */
const SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 1000);
// apps/api/src/realtime/bun.ts with LIVE_MAX_BUFFERED_BYTES' default (1 MiB).
const APP = {
  maxPayloadLength: 1024 * 1024,
  backpressureLimit: 2 * 1024 * 1024,
  closeOnBackpressureLimit: true,
  idleTimeout: 120,
  sendPings: true,
  perMessageDeflate: false,
};
const RELAY = { idleTimeout: 120 };

if (process.argv[2] === "--serve") {
  const options = JSON.parse(process.argv[3] ?? "{}") as Record<string, unknown>;
  const settled = () => {
    for (let i = 0; i < 3; i++) Bun.gc(true);
    return { rss: process.memoryUsage.rss() };
  };
  const server = Bun.serve<{ n: number }>({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req, srv) {
      return srv.upgrade(req, { data: { n: 1 } }) ? undefined : new Response("no", { status: 400 });
    },
    websocket: {
      ...options,
      open: (ws) => {
        ws.send("hello");
      },
      message() {},
    },
  });
  console.log(JSON.stringify({ port: server.port }));
  let base = settled();
  for await (const line of console) {
    const now = settled();
    if (line === "base") base = now;
    console.log(JSON.stringify({ rss: now.rss - base.rss }));
  }
  process.exit(0);
}

async function run(name: string, options: object) {
  const proc = Bun.spawn([process.execPath, import.meta.path, "--serve", JSON.stringify(options)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const next = async (): Promise<Record<string, number>> => {
    while (!buffered.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("server exited");
      buffered += value;
    }
    const at = buffered.indexOf("\n");
    const line = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    return JSON.parse(line) as Record<string, number>;
  };
  const ask = (cmd: string) => {
    proc.stdin.write(`${cmd}\n`);
    proc.stdin.flush();
    return next();
  };
  const { port } = await next();
  // A first round (opened and closed) so one-off growth (code, pools) is not counted.
  const open = async () => {
    const sockets: WebSocket[] = [];
    for (let i = 0; i < SOCKETS; i += 50) {
      const batch = Array.from({ length: Math.min(50, SOCKETS - i) }, () => new WebSocket(`ws://127.0.0.1:${port}/`));
      await Promise.all(batch.map((ws) => new Promise((r) => ws.addEventListener("message", r, { once: true }))));
      sockets.push(...batch);
    }
    return sockets;
  };
  for (const ws of await open()) ws.close();
  await Bun.sleep(500);
  await ask("base");
  const sockets = await open();
  await Bun.sleep(500);
  const held = await ask("read");
  for (const ws of sockets) ws.close();
  await Bun.sleep(500);
  const closed = await ask("read");
  proc.kill();
  const per = (b: number | undefined) => ((b ?? 0) / SOCKETS).toFixed(0).padStart(5);
  // RSS only: the sockets' JavaScript wrappers are a few cells, below what the heap's reading resolves here.
  console.log(`[native-socket] ${name.padEnd(40)} open: RSS ${per(held.rss)} B per socket; closed: RSS ${per(closed.rss)} B`);
}

console.log(`[native-socket] ${SOCKETS} idle sockets on a bare Bun.serve, after full collections (bytes per socket)`);
for (let round = 0; round < 2; round++) {
  await run("the app's options (realtime/bun.ts)", APP);
  await run("the relay's (idleTimeout only)", RELAY);
}
