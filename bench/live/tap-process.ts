/**
 * The Redis tap (tap.ts) in a process of its own, so neither it nor the bench's client wait for
 * each other's work on one loop. Subscribes, prints `ready`; when its stdin ends it stops and
 * writes its latencies (and, with TAP_RECORD=1, the messages) as JSON to TAP_OUT.
 */
import { writeFileSync } from "node:fs";
import { type TapOutput, tapInline } from "./tap.ts";

const url = process.env.TAP_REDIS_URL;
const out = process.env.TAP_OUT;
if (!url || !out) throw new Error("TAP_REDIS_URL and TAP_OUT are required");
const tap = await tapInline(url, { record: process.env.TAP_RECORD === "1", pattern: process.env.TAP_PATTERN });
process.stdout.write("ready\n");
// Nothing is sent: the end of stdin is the signal to stop.
await Bun.stdin.text();
await tap.stop();
const output: TapOutput = { latencies: tap.latencies, messages: [...tap.messages] };
writeFileSync(out, JSON.stringify(output));
process.exit(0);
