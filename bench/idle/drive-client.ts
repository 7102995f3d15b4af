import { writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Starts `heap-client.ts` in its own process with `tokens` (one socket each) and returns a way to
 * give it a command (`open`, `close`…) and wait for its answer line.
 */
export function spawnHeapClient(dir: string, httpUrl: string, wsUrl: string, tokens: string[]) {
  const file = join(dir, `tokens-${Math.random()}.txt`);
  writeFileSync(file, tokens.join("\n"));
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "heap-client.ts"), httpUrl, wsUrl, file], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const ask = async (cmd: string, answer: string) => {
    proc.stdin.write(`${cmd}\n`);
    proc.stdin.flush();
    let buffered = "";
    while (!buffered.includes(answer)) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`client exited before "${answer}"`);
      buffered += value;
    }
  };
  return { proc, ask };
}
