import net from "node:net";

/**
 * A WebSocket client on a raw TCP socket, so a test can stop reading (`pause`) and make the
 * server's send queue grow — what a slow consumer on a bad network does. Browser-style clients
 * always read, so they cannot play this part.
 */
export async function rawWebSocket(port: number, path: string) {
  const sock = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", () => resolve());
    sock.once("error", reject);
  });
  let received = Buffer.alloc(0);
  let handshakeDone: (() => void) | undefined;
  const handshake = new Promise<void>((r) => (handshakeDone = r));
  let total = 0;
  let closeCode: number | null = null;
  let pending = Buffer.alloc(0);
  // Server frames are unmasked: opcode, 7/16/64-bit length, payload. Only the close code is kept.
  const parse = () => {
    for (;;) {
      if (pending.length < 2) return;
      const opcode = (pending[0] ?? 0) & 0x0f;
      let len = (pending[1] ?? 0) & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (pending.length < 4) return;
        len = pending.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (pending.length < 10) return;
        len = Number(pending.readBigUInt64BE(2));
        offset = 10;
      }
      if (pending.length < offset + len) return;
      if (opcode === 8 && len >= 2) closeCode = pending.readUInt16BE(offset);
      pending = pending.subarray(offset + len);
    }
  };
  sock.on("data", (chunk: Buffer) => {
    total += chunk.length;
    if (handshakeDone) {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end >= 0) {
        pending = received.subarray(end + 4);
        handshakeDone();
        handshakeDone = undefined;
        parse();
      }
      return;
    }
    pending = Buffer.concat([pending, chunk]);
    parse();
  });
  const closed = new Promise<void>((r) => sock.once("close", () => r()));
  sock.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await handshake;
  if (!received.toString("latin1").startsWith("HTTP/1.1 101")) throw new Error(`no upgrade: ${received.toString("latin1").slice(0, 200)}`);

  return {
    sock,
    closed,
    bytesReceived: () => total,
    /** The code of the close frame the server sent, once read. */
    closeCode: () => closeCode,
    /** Sends one masked text frame (clients must mask). */
    sendText(text: string) {
      const payload = Buffer.from(text);
      const mask = crypto.getRandomValues(new Uint8Array(4));
      const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
      const masked = Buffer.alloc(payload.length);
      for (let i = 0; i < payload.length; i++) masked[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
      sock.write(Buffer.concat([header, Buffer.from(mask), masked]));
    },
  };
}
