/**
 * Counts the system calls a process makes over a window with `perf stat` on the kernel's syscall
 * tracepoints (no ptrace, so the process runs at its own speed). Socket writes and reads are what
 * a delta costs most besides JavaScript: every publish, reply, pub/sub message and socket frame is
 * one unless batched. Needs `perf` and permission to read tracepoints; null otherwise.
 */
import { spawn } from "node:child_process";

const EVENTS = ["raw_syscalls:sys_enter", "syscalls:sys_enter_sendto", "syscalls:sys_enter_recvfrom", "syscalls:sys_enter_write", "syscalls:sys_enter_read"];

export interface SyscallCounts {
  all: number;
  sendto: number;
  recvfrom: number;
  write: number;
  read: number;
}

/**
 * Starts counting `pid`'s system calls; resolves once perf has had time to attach (it counts
 * nothing before, and says nothing when it starts). `stop()` gives the counts, null when perf failed.
 */
export async function countSyscalls(pid: number, attachMs = 1500): Promise<{ stop(): Promise<SyscallCounts | null> }> {
  const child = spawn("perf", ["stat", "-x", ",", "-e", EVENTS.join(","), "-p", String(pid)], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", () => resolve(null));
    child.on("exit", (code) => resolve(code));
  });
  await Bun.sleep(attachMs);
  return {
    async stop() {
      child.kill("SIGINT");
      await exited;
      const counts = new Map<string, number>();
      for (const line of err.split("\n")) {
        const [value, , event] = line.split(",");
        if (event && value !== undefined && /^\d+$/.test(value)) counts.set(event, Number(value));
      }
      const get = (e: string) => counts.get(e);
      const all = get("raw_syscalls:sys_enter");
      if (all === undefined) return null;
      return {
        all,
        sendto: get("syscalls:sys_enter_sendto") ?? 0,
        recvfrom: get("syscalls:sys_enter_recvfrom") ?? 0,
        write: get("syscalls:sys_enter_write") ?? 0,
        read: get("syscalls:sys_enter_read") ?? 0,
      };
    },
  };
}
