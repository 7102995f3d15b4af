/**
 * Child processes of the live bench: started with their output in log files, tracked so that every
 * one of them is killed when the bench ends — normally, on an error, or on Ctrl-C.
 */
import type { Subprocess } from "bun";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Child {
  name: string;
  proc: Subprocess;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Last lines of the log, for error messages. */
  tail(lines?: number): string;
}

const children = new Set<Child>();
const exitHooks = new Set<() => void>();

/** Runs `fn` (synchronously) when the bench process exits, however it ends. */
export function atExit(fn: () => void): void {
  exitHooks.add(fn);
}

function killAllNow() {
  for (const hook of exitHooks) {
    try {
      hook();
    } catch {
      // best effort on the way out
    }
  }
  exitHooks.clear();
  for (const c of children) {
    try {
      c.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
}

// A bench interrupted half-way must not leave servers behind on the machine.
process.on("exit", killAllNow);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAllNow();
    process.exit(130);
  });
}

/** Spawns `cmd` with its stdout and stderr in `<logDir>/<name>.log`. */
export function spawnChild(name: string, cmd: string[], opts: { env?: Record<string, string>; logDir: string; cwd?: string }): Child {
  const logFile = join(opts.logDir, `${name}.log`);
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdout: Bun.file(logFile),
    stderr: Bun.file(`${logFile}.err`),
    stdin: "ignore",
  });
  const child: Child = {
    name,
    proc,
    logFile,
    async stop(graceMs = 5000) {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await proc.exited;
      clearTimeout(timer);
    },
    tail(lines = 20) {
      const read = (f: string) => {
        try {
          return readFileSync(f, "utf8");
        } catch {
          return "";
        }
      };
      return `${read(logFile)}\n${read(`${logFile}.err`)}`.trim().split("\n").slice(-lines).join("\n");
    },
  };
  children.add(child);
  return child;
}

/** Counts of the JSON log lines at warn/error level in a child's log, by `level: msg`. */
export function logLevels(child: Child): Record<string, number> {
  const counts: Record<string, number> = {};
  let text = "";
  try {
    text = readFileSync(child.logFile, "utf8");
  } catch {
    return counts;
  }
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const { level, msg } = JSON.parse(line) as { level?: string; msg?: string };
      // Dev auth is what the bench runs on; its start-up warning is expected.
      if (msg?.startsWith("DEV AUTH IS ON")) continue;
      if (level === "warn" || level === "error") counts[`${level}: ${msg}`] = (counts[`${level}: ${msg}`] ?? 0) + 1;
    } catch {
      // not a log line
    }
  }
  return counts;
}

/** Stops every child still running (used in `finally`). */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop(3000)));
}

/** A TCP port free on loopback right now (the OS picks it; a tiny race with other binders is accepted). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** Polls `url` until it answers 2xx, the child dies, or `timeoutMs` passes. */
export async function waitHttp(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited with ${child.proc.exitCode}:\n${child.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.tail()}`);
}

/** Resident set size of a process in KiB, from /proc (Linux). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux; 100 ticks/s). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name (which may itself contain spaces).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** RSS after letting the process settle (timers, lazy frees); the median of a few reads. */
export async function settledRssKb(pid: number, settleMs = 1500): Promise<number> {
  await Bun.sleep(settleMs);
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    reads.push(rssKb(pid));
    await Bun.sleep(100);
  }
  reads.sort((a, b) => a - b);
  return reads[2] ?? reads[0] ?? 0;
}

/** CPU ms (user, system) of each thread of `pid`, summed by thread name (Linux, 100 ticks/s). */
export function threadCpu(pid: number): Map<string, { user: number; system: number }> {
  const out = new Map<string, { user: number; system: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const prev = out.get(name) ?? { user: 0, system: 0 };
    out.set(name, { user: prev.user + Number(fields[11]) * 10, system: prev.system + Number(fields[12]) * 10 });
  }
  return out;
}

/** Per thread name: CPU ms used between two `threadCpu` reads (threads that came and went are partial). */
export function threadDelta(before: ReturnType<typeof threadCpu>, after: ReturnType<typeof threadCpu>): Record<string, { user: number; system: number }> {
  const out: Record<string, { user: number; system: number }> = {};
  for (const [name, a] of after) {
    const b = before.get(name) ?? { user: 0, system: 0 };
    const d = { user: a.user - b.user, system: a.system - b.system };
    if (d.user + d.system > 0) out[name] = d;
  }
  return out;
}
