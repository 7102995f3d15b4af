import type { Subprocess } from "bun";

const apiDir = new URL("../..", import.meta.url).pathname;

/** A real `bun src/server.ts` process, with everything it printed so far. */
export interface ServerProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  baseUrl: string;
  /** Everything written to stdout / stderr so far (drained continuously so the pipes never fill). */
  output: { stdout: string; stderr: string };
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

/**
 * Starts the real entry point on port 0 with `env` on top of this process's environment (pass
 * `DATABASE_URL: ""` etc. to clear inherited ones) and resolves once it logs "listening".
 */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 120_000): Promise<ServerProcess> {
  const proc = Bun.spawn(["bun", "src/server.ts"], {
    cwd: apiDir,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = { stdout: "", stderr: "" };
  const drain = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      output[key] += decoder.decode(value, { stream: true });
    }
  };
  void drain(proc.stdout, "stdout");
  void drain(proc.stderr, "stderr");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && proc.exitCode === null) {
    const match = /"msg":"listening".*?"url":"http:\/\/[^:]+:(\d+)"/.exec(output.stdout);
    if (match) {
      return {
        proc,
        baseUrl: `http://127.0.0.1:${match[1]}`,
        output,
        async stop() {
          proc.kill("SIGTERM");
          return proc.exited;
        },
      };
    }
    await Bun.sleep(25);
  }
  proc.kill("SIGKILL");
  await proc.exited;
  throw new Error(`server did not start:\n${output.stdout.slice(-2000)}\n${output.stderr.slice(-2000)}`);
}
