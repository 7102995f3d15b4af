/**
 * The bench's OneRoster 1.2 REST server in a process of its own, so its CPU is not the instance's:
 * serves the knobs' district (bench/roster/district.ts), prints `{ url, tokenUrl }` as one JSON
 * line, then on each stdin line `changed` serves the changed district and prints `ok`.
 */
import { startOneRosterServer } from "../../packages/oneroster/src/testing/index.ts";
import { benchDistrict, sizeFromEnv } from "./district.ts";

export const SIS_CLIENT = { clientId: "rapt-bench", clientSecret: "bench-secret-0001" };

if (import.meta.main) {
  const { data, changed } = benchDistrict(sizeFromEnv());
  const server = startOneRosterServer({ data, clients: [SIS_CLIENT], pageSize: Number(process.env.BENCH_ROSTER_PAGE_SIZE ?? 1000) });
  console.log(JSON.stringify({ url: server.url, tokenUrl: server.tokenUrl }));
  for await (const line of console) {
    if (line.trim() === "changed") {
      server.setData(changed.data);
      console.log("ok");
    }
  }
  await server.stop();
}
