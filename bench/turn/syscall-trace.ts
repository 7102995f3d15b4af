/**
 * Which connection a process's socket system calls go to, and how long each kind stays in the
 * kernel: `perf record` on the enter and exit tracepoints of the read/write family (each record
 * carries the thread, a timestamp and, on enter, the file descriptor), read back with
 * `perf script`. A descriptor is named from `/proc/<pid>/fd` and `/proc/net/tcp{,6}` at the end
 * of the window by the peer's port (Postgres, Redis, the model, the app's own listening port:
 * its clients) and, for Redis, by the connection's name in `CLIENT LIST`. The time between a
 * call's enter and exit is the kernel's work for it on that thread (on loopback a send also runs
 * the receiver's network stack there), plus any time the thread was preempted inside the call.
 * Needs `perf` with tracepoint access; null otherwise.
 */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";

const CALLS = ["sendto", "write", "writev", "recvfrom", "read", "sendmsg", "recvmsg"];

/** One (connection, thread, call) cell of a window: calls, bytes asked for and time in the kernel. */
export interface TraceCell {
  connection: string;
  thread: string;
  call: string;
  calls: number;
  /** µs between enter and exit, summed. */
  kernelUs: number;
}

export interface SyscallTrace {
  cells: TraceCell[];
  /** Calls whose descriptor could not be named (closed before the window ended: the model's pooled sockets, mostly). */
  unnamed: number;
}

/** Names a peer by its port (e.g. the Postgres proxy, Redis, the model) or a local port (the app's own listener). */
export interface PortNames {
  remote: Record<number, string>;
  local: Record<number, string>;
  /** Local port of a Redis connection → its CLIENT LIST name, read at the end of the window. */
  redisNames?: () => Promise<Record<number, string>>;
}

/**
 * Starts `perf` with `args` and gives it `attachMs` to attach. `exited` resolves true once it ends
 * (on the SIGINT it is stopped with: an exit by signal, not a failure), false if it never started.
 */
async function startPerf(args: string[], attachMs: number) {
  const child = spawn("perf", args, { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<boolean>((resolve) => {
    child.on("error", () => resolve(false));
    child.on("exit", () => resolve(true));
  });
  await Bun.sleep(attachMs);
  return { child, exited };
}

/** Starts tracing `pid`; resolves once perf has had time to attach. */
export async function traceSyscalls(pid: number, file: string, names: PortNames, attachMs = 1500): Promise<{ stop(): Promise<SyscallTrace | null> }> {
  const events = CALLS.flatMap((c) => [`syscalls:sys_enter_${c}`, `syscalls:sys_exit_${c}`]);
  const { child, exited } = await startPerf(["record", "-q", "-o", file, "-e", events.join(","), "-p", String(pid)], attachMs);
  return {
    async stop() {
      // Descriptors are named before perf stops, while the window's sockets are still open.
      const fds = nameDescriptors(pid, names, (await names.redisNames?.()) ?? {});
      child.kill("SIGINT");
      if (!(await exited)) return null;
      const script = spawnSync("perf", ["script", "-i", file, "-F", "tid,comm,time,event,trace"], { maxBuffer: 1 << 30, encoding: "utf8" });
      rmSync(file, { force: true });
      if (script.status !== 0) return null;
      return summarise(script.stdout, fds);
    },
  };
}

function summarise(text: string, fds: Map<number, string>): SyscallTrace {
  const open = new Map<number, { call: string; fd: number; at: number }>();
  const cells = new Map<string, TraceCell>();
  let unnamed = 0;
  // e.g. "bun.exe 1234 [...] 5678.123456: syscalls:sys_enter_sendto: fd: 0x0000001a, buff: …"
  const line = /^\s*(.+?)\s+(\d+)\s+(\d+\.\d+):\s+syscalls:sys_(enter|exit)_(\w+):\s*(.*)$/;
  for (const l of text.split("\n")) {
    const m = line.exec(l);
    if (!m) continue;
    const [, comm = "", tidText = "", timeText = "", phase, call = "", rest = ""] = m;
    const tid = Number(tidText);
    const at = Number(timeText) * 1e6;
    if (phase === "enter") {
      const fd = /fd: (0x[0-9a-f]+)/.exec(rest);
      open.set(tid, { call, fd: fd ? Number.parseInt(fd[1] ?? "0", 16) : -1, at });
      continue;
    }
    const entered = open.get(tid);
    open.delete(tid);
    if (!entered || entered.call !== call) continue;
    const connection = fds.get(entered.fd);
    if (!connection) unnamed += 1;
    const key = `${connection ?? "unnamed"}|${comm}|${call}`;
    let cell = cells.get(key);
    if (!cell) {
      cell = { connection: connection ?? "unnamed", thread: comm, call, calls: 0, kernelUs: 0 };
      cells.set(key, cell);
    }
    cell.calls += 1;
    cell.kernelUs += at - entered.at;
  }
  return { cells: [...cells.values()].sort((a, b) => b.kernelUs - a.kernelUs), unnamed };
}

/** fd → a name: the peer of a TCP socket by port, else what the link says (eventfd, pipe, file). */
function nameDescriptors(pid: number, names: PortNames, redisNames: Record<number, string>): Map<number, string> {
  const sockets = tcpSockets();
  const out = new Map<number, string>();
  let entries: string[] = [];
  try {
    entries = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const entry of entries) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${entry}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (!inode) {
      out.set(Number(entry), link.replace(/\[\d+\]$/, "").replace(/^anon_inode:/, ""));
      continue;
    }
    const s = sockets.get(inode);
    if (!s) {
      out.set(Number(entry), "socket (not TCP)");
      continue;
    }
    const name =
      names.local[s.localPort] !== undefined && s.remotePort !== 0
        ? names.local[s.localPort]
        : redisNames[s.localPort] !== undefined
          ? `redis ${redisNames[s.localPort]}`
          : (names.remote[s.remotePort] ?? (s.remotePort === 0 ? `listening :${s.localPort}` : `tcp peer :${s.remotePort}`));
    out.set(Number(entry), name ?? "socket");
  }
  return out;
}

function tcpSockets(): Map<string, { localPort: number; remotePort: number }> {
  const out = new Map<string, { localPort: number; remotePort: number }>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const row of text.split("\n").slice(1)) {
      const cols = row.trim().split(/\s+/);
      const local = cols[1];
      const remote = cols[2];
      const inode = cols[9];
      if (!local || !remote || !inode) continue;
      out.set(inode, { localPort: Number.parseInt(local.split(":")[1] ?? "0", 16), remotePort: Number.parseInt(remote.split(":")[1] ?? "0", 16) });
    }
  }
  return out;
}

/** Redis `CLIENT LIST` → local port → connection name (unnamed connections are left out). */
export function redisClientNames(list: string): Record<number, string> {
  const out: Record<number, string> = {};
  for (const row of list.split("\n")) {
    const addr = /\baddr=[^ ]*:(\d+)\b/.exec(row)?.[1];
    const name = /\bname=(\S+)/.exec(row)?.[1];
    if (addr && name) out[Number(addr)] = name;
  }
  return out;
}

/** The trace as rows per turn: connection, thread, call, calls per turn, µs in the kernel per call and per turn. */
export function formatTrace(trace: SyscallTrace, turns: number): string[] {
  const rows = trace.cells
    .filter((c) => c.calls / turns >= 0.05)
    .map(
      (c) =>
        `    ${c.connection.padEnd(34)} ${c.thread.padEnd(16)} ${c.call.padEnd(9)} ${(c.calls / turns).toFixed(2).padStart(7)}/turn ${(c.kernelUs / c.calls).toFixed(1).padStart(7)} µs/call ${(c.kernelUs / turns).toFixed(1).padStart(7)} µs/turn`,
    );
  const total = trace.cells.reduce((a, c) => a + c.kernelUs, 0);
  const calls = trace.cells.reduce((a, c) => a + c.calls, 0);
  rows.push(`    all traced calls: ${(calls / turns).toFixed(2)}/turn, ${(total / turns).toFixed(1)} µs/turn in the kernel; unnamed descriptors ${trace.unnamed}`);
  return rows;
}

/** Samples of a window by thread: all, in the kernel, and the kernel's by the system call (or interrupt) they ran under. */
export interface KernelSamples {
  hz: number;
  byThread: Record<string, { samples: number; kernel: number; bySyscall: Record<string, number> }>;
}

/**
 * Samples `pid` on the CPU clock with kernel call stacks (`perf record -g`), so the system time
 * /proc reports is split by the system call it was spent in (`__x64_sys_sendto` …) — what a
 * sampler in the process itself cannot see. Null when perf cannot sample the kernel.
 */
export async function sampleKernel(pid: number, file: string, hz = 997, attachMs = 1500): Promise<{ stop(): Promise<KernelSamples | null> }> {
  const { child, exited } = await startPerf(["record", "-q", "-g", "-F", String(hz), "-o", file, "-p", String(pid)], attachMs);
  return {
    async stop() {
      child.kill("SIGINT");
      if (!(await exited)) return null;
      const script = spawnSync("perf", ["script", "-i", file, "-F", "comm,ip,sym,dso"], { maxBuffer: 1 << 30, encoding: "utf8" });
      rmSync(file, { force: true });
      if (script.status !== 0) return null;
      const byThread: KernelSamples["byThread"] = {};
      // A sample is a header line (the thread's name) followed by its stack, leaf first, and a blank line.
      for (const block of script.stdout.split(/\n\s*\n/)) {
        const lines = block.split("\n").filter((l) => l.trim() !== "");
        const head = lines[0]?.trim();
        if (!head) continue;
        const thread = byThread[head] ?? { samples: 0, kernel: 0, bySyscall: {} };
        byThread[head] = thread;
        thread.samples += 1;
        const frames = lines.slice(1);
        if (!frames[0]?.includes("[kernel.kallsyms]")) continue;
        thread.kernel += 1;
        let entry = "kernel, no system call (interrupt, page fault, scheduler)";
        for (const f of frames) {
          const sys = /\b__(?:x64|se|do)_sys_(\w+)/.exec(f)?.[1];
          if (sys) {
            entry = sys;
            break;
          }
          if (/\basm_exc_page_fault\b/.test(f)) {
            entry = "page fault";
            break;
          }
        }
        thread.bySyscall[entry] = (thread.bySyscall[entry] ?? 0) + 1;
      }
      return { hz, byThread };
    },
  };
}

/** The kernel samples as rows: per thread, its share in the kernel and the system calls that took most. */
export function formatKernelSamples(k: KernelSamples, turns: number): string[] {
  const msPerSample = 1000 / k.hz;
  const rows: string[] = [];
  for (const [thread, t] of Object.entries(k.byThread).sort((a, b) => b[1].samples - a[1].samples)) {
    if (t.samples < 5) continue;
    rows.push(
      `    ${thread.padEnd(16)} ${t.samples} samples (${((t.samples * msPerSample) / turns).toFixed(2)} ms/turn), in the kernel ${t.kernel} (${((t.kernel * msPerSample) / turns).toFixed(2)} ms/turn)`,
    );
    for (const [sys, n] of Object.entries(t.bySyscall)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8))
      rows.push(`      ${sys.padEnd(56)} ${n} (${(((n * msPerSample) / turns) * 1000).toFixed(0)} µs/turn)`);
  }
  return rows;
}
