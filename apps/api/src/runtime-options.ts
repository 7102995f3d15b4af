/**
 * The JavaScript engine's settings the API runs with: JavaScriptCore's options, which Bun reads
 * only from the process's environment as `BUN_JSC_<option>` when the engine starts (not from
 * `.env` files, not at run time), so they are set by whatever starts the process: `bun run start`
 * (package.json), the Dockerfile's `ENV`, and the benches' API processes (bench/live/targets.ts).
 * This module is their one list; apps/api/test/runtime-options.test.ts fails when a start command
 * disagrees with it, and `main` logs a warning when the running process was started without it.
 *
 * `useFTLJIT=false`: no FTL, JavaScriptCore's fourth tier; hot code stays in the DFG tier. A chat
 * turn runs many large async functions (ours and the drivers': ioredis, postgres-js, drizzle, zod,
 * Node's streams) whose speculations keep failing as turns vary, so FTL code was compiled, thrown
 * away and compiled again for as long as the instance ran: 0.6–1.2 ms of the JIT thread's CPU per
 * turn after 800 turns. The DFG's code is slower: measured alternating (bench/README.md, turn.bench.ts
 * "Twelfth pass"), on the live bench the generating instance spent 3.3–3.4 ms of CPU a turn without
 * FTL against 3.7–4.1 with it after 800 turns, 3.1–3.3 against 3.7–4.0 over its first 3,200; on the turn bench
 * (one instance, no watchers) the JavaScript thread paid back the JIT's saving, net equal.
 *
 * `useWarmUpMarkedBlocks=false`: no "JSCWarmUp" thread touching the garbage-collected heap's
 * decommitted blocks ahead of use (the collector still decommits what it frees; a block is faulted
 * in when it is allocated into). Under a class's burst that thread spent 10–50 ms of the generating
 * instance's CPU per 200 turns, and the JavaScript thread was not found to pay it back. What that
 * buys a whole turn is below the live bench's run-to-run noise: 4.37 ms of CPU a turn without it
 * against 4.51 with it, thirteen alternating runs each (six fan-out pairs, then six full runs and
 * eight idle runs); idle memory per further socket 2.78 against 3.43 KB in the idle runs (two full
 * runs without it read 7.44 and 4.77, their reading taken before the burst's collection), the
 * second reader's p99 not worse (bench/README.md, turn.bench.ts "Fourteenth pass" and "The
 * warm-up thread, confirmed or not").
 */
export const JSC_OPTIONS: Readonly<Record<string, string>> = Object.freeze({ useFTLJIT: "false", useWarmUpMarkedBlocks: "false" });

/** The variables that carry {@link JSC_OPTIONS} into a Bun process's environment. */
export const RUNTIME_ENV: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(JSC_OPTIONS).map(([option, value]) => [`BUN_JSC_${option}`, value])),
);

/** The runtime variables a process environment lacks or sets differently (empty when it was started as intended). */
export function runtimeEnvMismatches(env: Record<string, string | undefined>): string[] {
  return Object.entries(RUNTIME_ENV)
    .filter(([name, value]) => env[name] !== value)
    .map(([name, value]) => `${name}=${value}${env[name] === undefined ? "" : ` (found ${env[name]})`}`);
}
