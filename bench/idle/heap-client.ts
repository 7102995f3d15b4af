/**
 * The heap probe's client, in its own process so its objects are not counted: reads tokens (one
 * per line) from the file in argv, and on each "open" line on stdin opens one idle socket per
 * token (ticket + upgrade, until `hello`), then prints "opened"; on "close" closes them all and
 * prints "closed"; on "tickets" only asks for one ticket per token, then prints "ticketed".
 */
import { readFileSync } from "node:fs";

const [baseUrl, wsUrl, file] = process.argv.slice(2) as [string, string, string];
const tokens = readFileSync(file, "utf8").split("\n").filter(Boolean);
let open: WebSocket[] = [];

async function openOne(token: string, attempt = 0): Promise<WebSocket> {
  try {
    return await openOnce(token);
  } catch (err) {
    // A loaded machine resets the odd keep-alive connection; the socket is what is measured.
    if (attempt >= 3) throw err;
    await Bun.sleep(100);
    return openOne(token, attempt + 1);
  }
}

async function openOnce(token: string): Promise<WebSocket> {
  const res = await fetch(`${baseUrl}/api/realtime/tickets`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 201) throw new Error(`ticket: ${res.status}`);
  const { ticket } = (await res.json()) as { ticket: string };
  const ws = new WebSocket(`${wsUrl}/ws?ticket=${encodeURIComponent(ticket)}`);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("message", () => resolve(), { once: true });
    ws.addEventListener("close", () => reject(new Error("closed before hello")), { once: true });
  });
  return ws;
}

async function ticketOnly(token: string): Promise<void> {
  const res = await fetch(`${baseUrl}/api/realtime/tickets`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 201) throw new Error(`ticket: ${res.status}`);
  await res.json();
}

for await (const line of console) {
  if (line === "tickets") {
    // Tickets only (never redeemed): the ticket route's share of a setup, for bench/idle/setup-alloc.ts.
    for (let i = 0; i < tokens.length; i += 24) await Promise.all(tokens.slice(i, i + 24).map((t) => ticketOnly(t)));
    console.log("ticketed");
  } else if (line === "open") {
    for (let i = 0; i < tokens.length; i += 24) open.push(...(await Promise.all(tokens.slice(i, i + 24).map(openOne))));
    console.log("opened");
  } else if (line === "close") {
    for (const ws of open) ws.close();
    open = [];
    await Bun.sleep(500);
    console.log("closed");
  }
}
