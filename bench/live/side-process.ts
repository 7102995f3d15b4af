/**
 * A helper process of the live bench (the Redis tap, the second reader), so its work and the
 * bench's client do not wait for each other on one loop. Started with its settings in the
 * environment and `outVar` naming a fresh file; ready once it printed `ready`; stopped by ending its
 * stdin (after an optional line), when it writes its result to that file as JSON and exits 0.
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SideProcess<T> {
  /** Ends the process's stdin (after `line`, if given) and returns the result it wrote. */
  stop(line?: string): Promise<T>;
}

export async function startSideProcess<T>(script: string, name: string, env: Record<string, string>, outVar: string): Promise<SideProcess<T>> {
  const out = join(tmpdir(), `rapt-live-${name}-${process.pid}-${crypto.randomUUID()}.json`);
  const proc = Bun.spawn([process.execPath, script], {
    env: { ...process.env, ...env, [outVar]: out },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let said = "";
  while (!said.includes("ready\n")) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`the ${name} process ended before it was ready (exit ${await proc.exited})`);
    said += new TextDecoder().decode(chunk.value);
  }
  reader.releaseLock();
  return {
    async stop(line) {
      if (line !== undefined) proc.stdin.write(`${line}\n`);
      proc.stdin.end();
      const code = await proc.exited;
      if (code !== 0) throw new Error(`the ${name} process exited with ${code}`);
      try {
        return JSON.parse(readFileSync(out, "utf8")) as T;
      } finally {
        rmSync(out, { force: true });
      }
    },
  };
}
