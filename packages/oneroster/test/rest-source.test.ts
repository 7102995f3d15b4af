import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { createOneRosterRestSource, type OneRosterRestOptions, RosterSourceError } from "../src/index.ts";
import { generateDistrict, mutateDistrict, type OneRosterServer, startOneRosterServer } from "../src/testing/index.ts";
import { readAll, rejection } from "./helpers.ts";

const district = generateDistrict({ seed: 11, users: 60, classes: 6, enrollments: 90, schools: 2 });
const client = { clientId: "sis-client", clientSecret: "s3cret:with/odd&chars" };
const servers: OneRosterServer[] = [];
const noWait = { sleep: async () => {}, retries: 2 };

function serve(options: Partial<Parameters<typeof startOneRosterServer>[0]> = {}) {
  const server = startOneRosterServer({ data: district, clients: [client], pageSize: 25, ...options });
  servers.push(server);
  return server;
}

function sourceFor(server: OneRosterServer, options: Partial<OneRosterRestOptions> = {}) {
  return createOneRosterRestSource({ baseUrl: server.url, tokenUrl: server.tokenUrl, ...client, retry: noWait, ...options });
}

const resourceRequests = (server: OneRosterServer) => server.requests.filter((r) => r.path.includes("/rostering/"));
const tokenRequests = (server: OneRosterServer) => server.requests.filter((r) => r.path === "/token");

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

describe("createOneRosterRestSource", () => {
  test("reads every entity page by page and maps references onto the normalised records", async () => {
    const server = serve();
    const source = sourceFor(server, { pageSize: 20 });
    expect(await source.mode("users")).toBe("bulk");
    for (const entity of ["orgs", "academicSessions", "courses", "classes", "users", "enrollments"] as const) {
      const { records, rejected } = await readAll(source, entity);
      expect(rejected).toEqual([]);
      expect(records).toEqual(district[entity] as typeof records);
    }
    const users = resourceRequests(server).filter((r) => r.path.endsWith("/users"));
    expect(users.map((r) => r.params.offset)).toEqual(["0", "20", "40"]);
    expect(users.every((r) => r.params.limit === "20")).toBe(true);
    // One token for the whole read.
    expect(tokenRequests(server)).toHaveLength(1);
  });

  test("a server that grants smaller pages than asked: X-Total-Count keeps the reader going", async () => {
    const server = serve({ pageSize: 7 });
    const { records, pages } = await readAll(sourceFor(server, { pageSize: 50 }), "users");
    expect(records).toHaveLength(60);
    expect(pages).toHaveLength(9);
  });

  test("without X-Total-Count it reads until a short page", async () => {
    const server = serve({ faults: { omitTotalCount: true } });
    const { records, pages } = await readAll(sourceFor(server, { pageSize: 20 }), "users");
    expect(records).toHaveLength(60);
    // 20, 20, 20, then an empty page proves the end.
    expect(pages.map((page) => page.records.length)).toEqual([20, 20, 20, 0]);
  });

  test("a delta asks with the dateLastModified filter and gets only the changes", async () => {
    const at = new Date("2026-11-30T12:00:00.000Z");
    const next = mutateDistrict(district, { seed: 3, at, renameUsers: 2, moveStudents: 1, removeEnrollments: 1 });
    const server = serve({ data: next.data });
    const source = sourceFor(server);
    const since = new Date("2026-11-01T00:00:00.000Z");
    expect(await source.mode("users", { since })).toBe("delta");
    const users = await readAll(source, "users", { since });
    expect(users.records.map((u) => u.sourcedId).sort()).toEqual([...next.renamed].sort());
    const enrollments = await readAll(source, "enrollments", { since });
    expect(enrollments.records).toEqual(next.delta.enrollments);
    expect(enrollments.records.filter((e) => e.status === "tobedeleted")).toHaveLength(2);
    const filters = resourceRequests(server).map((r) => r.params.filter);
    expect(filters.every((f) => f === "dateLastModified>'2026-11-01T00:00:00.000Z'")).toBe(true);
    expect((await readAll(source, "classes", { since })).records).toEqual([]);
  });

  test("an expired token is replaced once and the read goes on", async () => {
    const server = serve();
    const source = sourceFor(server, { pageSize: 20 });
    const pages = source.read("users")[Symbol.asyncIterator]();
    expect((await pages.next()).value?.records).toHaveLength(20);
    server.expireTokens();
    expect((await pages.next()).value?.records).toHaveLength(20);
    // Pages 2 and 3 were in flight together: both refused, one new token for both.
    expect(tokenRequests(server)).toHaveLength(2);
    expect(resourceRequests(server).map((r) => r.status)).toEqual([200, 401, 401, 200, 200]);
  });

  test("pages fetched in parallel and answered out of order are handed on in offset order", async () => {
    const server = serve({ pageSize: 5, faults: { latencyMs: [0, 30] } });
    const { records, pages } = await readAll(sourceFor(server, { concurrency: 4 }), "users");
    expect(records).toEqual(district.users);
    expect(pages).toHaveLength(12);
    const offsets = resourceRequests(server).map((r) => Number(r.params.offset));
    // The server saw them finish in another order than they were asked for.
    expect(offsets).not.toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(offsets).size).toBe(12);
  });

  test("a token is cached until shortly before it expires, then fetched anew", async () => {
    const server = serve({ tokenTtlSeconds: 600 });
    let now = Date.parse("2026-12-01T00:00:00Z");
    const source = sourceFor(server, { now: () => now });
    await readAll(source, "orgs");
    now += 500_000;
    await readAll(source, "orgs");
    expect(tokenRequests(server)).toHaveLength(1);
    now += 50_000; // 550 s: inside the renewal margin of a 600 s token
    await readAll(source, "orgs");
    expect(tokenRequests(server)).toHaveLength(2);
  });

  test("wrong credentials or a refused token endpoint: unauthorized", async () => {
    const server = serve();
    const wrong = await rejection(readAll(sourceFor(server, { clientSecret: "nope" }), "orgs"));
    expect(wrong).toBeInstanceOf(RosterSourceError);
    expect((wrong as RosterSourceError).failure).toBe("unauthorized");
    server.faults.refuseTokens = true;
    const refused = await rejection(readAll(sourceFor(server), "orgs"));
    expect((refused as RosterSourceError).failure).toBe("unauthorized");
    expect(resourceRequests(server)).toEqual([]);
  });

  test("a server that refuses even a fresh token: unauthorized after one retry", async () => {
    const server = serve({ faults: { failPages: [{ entity: "users", status: 401 }] } });
    const error = await rejection(readAll(sourceFor(server), "users"));
    expect((error as RosterSourceError).failure).toBe("unauthorized");
    expect(tokenRequests(server)).toHaveLength(2);
    const forbidden = serve({ faults: { failPages: [{ entity: "users", status: 403 }] } });
    expect(((await rejection(readAll(sourceFor(forbidden), "users"))) as RosterSourceError).failure).toBe("unauthorized");
  });

  test("a page answering 500 is retried; one that keeps failing fails the read", async () => {
    const flaky = serve({ faults: { failPages: [{ entity: "users", offset: 25, times: 2 }] } });
    const sleeps: number[] = [];
    const source = sourceFor(flaky, { pageSize: 25, retry: { retries: 2, sleep: async (ms) => void sleeps.push(ms) } });
    expect((await readAll(source, "users")).records).toHaveLength(60);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThan(sleeps[0] ?? 0);

    const broken = serve({ faults: { failPages: [{ entity: "users", offset: 25 }] } });
    const seen: number[] = [];
    const error = await rejection(
      (async () => {
        for await (const page of sourceFor(broken, { pageSize: 25 }).read("users")) seen.push(page.records.length);
      })(),
    );
    expect(error).toBeInstanceOf(RosterSourceError);
    expect((error as RosterSourceError).failure).toBe("unreachable");
    expect((error as RosterSourceError).message).toContain("HTTP 500");
    expect(seen).toEqual([25]);
    expect(resourceRequests(broken).filter((r) => r.status === 500)).toHaveLength(3);
  });

  test("429 honours Retry-After (capped)", async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const fetchImpl = async (input: string, init: RequestInit) => {
      if (input.includes("/rostering/") && calls++ === 0) {
        return new Response("slow down", { status: 429, headers: { "retry-after": "2" } });
      }
      return fetch(input, init);
    };
    const server = serve();
    const source = sourceFor(server, { fetch: fetchImpl, retry: { sleep: async (ms) => void sleeps.push(ms) } });
    expect((await readAll(source, "orgs")).records).toHaveLength(3);
    expect(sleeps).toEqual([2000]);
  });

  test("an unreachable server and a hung one: unreachable", async () => {
    const server = serve();
    const url = server.url;
    await server.stop();
    const down = await rejection(readAll(createOneRosterRestSource({ baseUrl: url, tokenUrl: `${url}/token`, ...client, retry: noWait }), "orgs"));
    expect((down as RosterSourceError).failure).toBe("unreachable");

    const slow = serve({ faults: { latencyMs: 2000 } });
    const hung = await rejection(readAll(sourceFor(slow, { retry: { ...noWait, retries: 1, timeoutMs: 100 } }), "orgs"));
    expect((hung as RosterSourceError).failure).toBe("unreachable");
    expect((hung as RosterSourceError).message).toContain("100 ms");
  });

  test("a body that stalls half-way is timed out and fetched again", async () => {
    const server = serve();
    let stalled = 0;
    const fetchImpl = async (input: string, init: RequestInit) => {
      if (!input.includes("/rostering/") || stalled > 0) return fetch(input, init);
      stalled += 1;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"orgs": [{"sourcedId": '));
          init.signal?.addEventListener("abort", () => controller.error(init.signal?.reason));
        },
      });
      return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
    };
    const source = sourceFor(server, { fetch: fetchImpl, retry: { ...noWait, timeoutMs: 100 } });
    expect((await readAll(source, "orgs")).records).toEqual(district.orgs);
    expect(stalled).toBe(1);
  });

  test("the caller's abort stops the read at once", async () => {
    const server = serve({ faults: { latencyMs: 2000 } });
    const controller = new AbortController();
    const reading = readAll(sourceFor(server), "orgs", { signal: controller.signal } as { since?: Date });
    setTimeout(() => controller.abort(new Error("run cancelled")), 50);
    const error = await rejection(reading);
    expect((error as Error).message).toBe("run cancelled");
  });

  test("a response that is not a page: bad_response", async () => {
    const answers: Response[] = [new Response("<html>maintenance</html>", { status: 200 }), Response.json({ people: [] }), new Response("gone", { status: 404 })];
    for (const answer of answers) {
      const server = serve();
      const fetchImpl = async (input: string, init: RequestInit) => (input.includes("/rostering/") ? answer.clone() : fetch(input, init));
      const error = await rejection(readAll(sourceFor(server, { fetch: fetchImpl }), "orgs"));
      expect((error as RosterSourceError).failure).toBe("bad_response");
    }
  });

  test("a server that ignores offset is caught instead of read forever", async () => {
    const server = serve();
    const fetchImpl = (input: string, init: RequestInit) => fetch(input.replace(/offset=\d+/, "offset=0"), init);
    const error = await rejection(readAll(sourceFor(server, { fetch: fetchImpl, pageSize: 10 }), "users"));
    expect((error as RosterSourceError).failure).toBe("bad_response");
  });

  test("bad records are rejected with their sourcedId; the rest of the page is kept", async () => {
    const server = serve({ pageSize: 100 });
    const fetchImpl = async (input: string, init: RequestInit) => {
      if (!input.includes("/rostering/v1p2/users")) return fetch(input, init);
      const body = (await (await fetch(input, init)).json()) as { users: Record<string, unknown>[] };
      const [first, second, third, fourth, ...rest] = body.users;
      const bad = [
        { ...first, roles: [{ roleType: "primary", role: "wizard", org: { sourcedId: "x" } }] },
        { ...second, dateLastModified: "last tuesday" },
        { ...third, enabledUser: "yes" },
        "not a record",
        { ...fourth, sourcedId: "" },
      ];
      return Response.json({ users: [...bad, ...rest] }, { headers: { "x-total-count": String(rest.length + bad.length) } });
    };
    const { records, rejected } = await readAll(sourceFor(server, { fetch: fetchImpl, pageSize: 100 }), "users");
    expect(records).toHaveLength(56);
    expect(rejected.map((r) => r.sourcedId)).toEqual([district.users[0]?.sourcedId, district.users[1]?.sourcedId, district.users[2]?.sourcedId, undefined, undefined]);
    expect(rejected[0]?.reason).toContain("roles.0.role");
    expect(rejected[1]?.reason).toContain("dateLastModified");
    expect(rejected[2]?.reason).toContain("enabledUser");
  });
});
