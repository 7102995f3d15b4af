/**
 * The runtime's settings the API runs with: JavaScriptCore's options and the native allocator's
 * (mimalloc, which Bun links in). Bun reads both only from the process's environment when it starts
 * (`BUN_JSC_<option>`, `MIMALLOC_<OPTION>`; not from `.env` files, not at run time), so they are set
 * by whatever starts the process: `bun run start` (package.json), the Dockerfile's `ENV`, and the
 * benches' API processes (bench/live/targets.ts). This module is their one list;
 * apps/api/test/runtime-options.test.ts fails when a start command disagrees with it, and `main`
 * logs a warning when the running process was started without it.
 *
 * `useFTLJIT=false`: no FTL, JavaScriptCore's fourth tier; hot code stays in the DFG tier. A chat
 * turn runs many large async functions (ours and the drivers': ioredis, postgres-js, drizzle, zod,
 * Node's streams) whose speculations keep failing as turns vary, so FTL code was compiled, thrown
 * away and compiled again for as long as the instance ran: 0.6–1.2 ms of the JIT thread's CPU per
 * turn after 800 turns. The DFG's code is slower: measured alternating (bench/README.md, turn.bench.ts
 * "Twelfth pass"), on the live bench the generating instance spent 3.3–3.4 ms of CPU a turn without
 * FTL against 3.7–4.1 with it after 800 turns, 3.1–3.3 against 3.7–4.0 over its first 3,200; on the turn bench
 * (one instance, no watchers) the JavaScript thread paid back the JIT's saving, net equal.
 */
export const JSC_OPTIONS: Readonly<Record<string, string>> = Object.freeze({ useFTLJIT: "false" });

/**
 * `PURGE_HOLES_MIN_INTERVAL=10000`: Bun's mimalloc hands the free blocks inside pages still in use
 * back to the kernel ("purges holes") when its thread goes idle, at most every 10 s instead of every
 * 100 ms. A busy instance goes idle between I/O events many times a second, so under a class's burst
 * it swept ten times a second and handed back memory the next turns took again. On the live bench
 * (fan-out only, alternating, bench/README.md, turn.bench.ts "Fourteenth pass") the generating
 * instance spent 3.91 ms of CPU a turn with the sweep paced (9 runs, 3.60–4.20) against 4.48 without
 * (18 runs, 3.60–5.35): the JavaScript thread 3.29 against 3.71, the JIT thread 0.29 against 0.40.
 * Page faults were 10–14 a turn either way, so where the sweep's cost lands is not pinned down.
 * The memory still goes back: a sweep runs once the interval allows, and `Bun.gc(true)` (the
 * memory reducer's quiet-time collection) starts one, so a burst's memory is returned within ~10 s.
 * Turning hole purging off (`MIMALLOC_PURGE_HOLES=0`, 3.66 ms a turn) returns nothing at all: after
 * a burst RSS stayed at its peak even after `Bun.gc(true)`.
 */
export const MIMALLOC_OPTIONS: Readonly<Record<string, string>> = Object.freeze({ PURGE_HOLES_MIN_INTERVAL: "10000" });

/** The variables that carry {@link JSC_OPTIONS} and {@link MIMALLOC_OPTIONS} into a Bun process's environment. */
export const RUNTIME_ENV: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(Object.entries(JSC_OPTIONS).map(([option, value]) => [`BUN_JSC_${option}`, value])),
  ...Object.fromEntries(Object.entries(MIMALLOC_OPTIONS).map(([option, value]) => [`MIMALLOC_${option}`, value])),
});

/** The runtime variables a process environment lacks or sets differently (empty when it was started as intended). */
export function runtimeEnvMismatches(env: Record<string, string | undefined>): string[] {
  return Object.entries(RUNTIME_ENV)
    .filter(([name, value]) => env[name] !== value)
    .map(([name, value]) => `${name}=${value}${env[name] === undefined ? "" : ` (found ${env[name]})`}`);
}
