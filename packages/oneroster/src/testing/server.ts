import { ROSTER_ENTITIES, type RosterEntity, type RosterRecords } from "../records.ts";
import type { RosterData } from "./district.ts";
import { seededRandom, shuffled } from "./random.ts";
import { toRestJson } from "./rest-json.ts";

const ROSTERING_PATH = "/ims/oneroster/rostering/v1p2";

export interface OneRosterFaults {
  /** Pages that answer with an error: `offset` omitted = every page of the entity; `times` omitted = always. */
  failPages?: { entity: RosterEntity; offset?: number; status?: number; times?: number }[];
  /** The token endpoint answers 401 invalid_client to everyone. */
  refuseTokens?: boolean;
  /** Records in a seeded random order (the same on every page), so a reader cannot rely on order. */
  shuffleSeed?: number;
  /** Delay before each rostering answer: fixed, or random in [min, max] so parallel page fetches finish out of order. */
  latencyMs?: number | [number, number];
  /** Leave out `X-Total-Count` (and `Link`), as some servers do. */
  omitTotalCount?: boolean;
}

export interface OneRosterServerOptions {
  data: RosterData;
  clients: { clientId: string; clientSecret: string }[];
  /** Largest `limit` honoured; a larger one is cut down to it. Default 100. */
  pageSize?: number;
  /** Lifetime of issued tokens. Default 3600. */
  tokenTtlSeconds?: number;
  faults?: OneRosterFaults;
}

export interface ServedRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  status: number;
}

export interface OneRosterServer {
  /** Root URL; the rostering endpoints are under `/ims/oneroster/rostering/v1p2`. */
  url: string;
  tokenUrl: string;
  /** What was asked and answered, in order of answer. */
  requests: ServedRequest[];
  /** Change while running: a test can turn faults on and off between reads. */
  faults: OneRosterFaults;
  /** Serve other data from now on (e.g. after `mutateDistrict`). */
  setData(data: RosterData): void;
  /** Every issued token becomes invalid, as if it expired or was revoked. */
  expireTokens(): void;
  stop(): Promise<void>;
}

/**
 * A OneRoster 1.2 REST server for tests and the bench, on a real port: an OAuth 2 client-credentials
 * token endpoint, the six rostering collections with `limit`/`offset` paging, `X-Total-Count` and
 * `Link`, and `filter=dateLastModified>'…'` (or `>=`). Errors are imsx status objects.
 */
export function startOneRosterServer(options: OneRosterServerOptions): OneRosterServer {
  const pageSize = options.pageSize ?? 100;
  const ttl = options.tokenTtlSeconds ?? 3600;
  const tokens = new Map<string, number>();
  const requests: ServedRequest[] = [];
  const faults: OneRosterFaults = { ...options.faults };
  const failCounts = new Map<number, number>();
  let data = options.data;
  const latencyRandom = seededRandom(7);

  type AnyRecord = RosterRecords[RosterEntity];
  const order = (entity: RosterEntity): AnyRecord[] => {
    const records: AnyRecord[] = data[entity];
    return faults.shuffleSeed === undefined ? records : shuffled(seededRandom(faults.shuffleSeed), records);
  };

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (request) => {
      const url = new URL(request.url);
      const params = Object.fromEntries(url.searchParams);
      const answer = (response: Response) => {
        requests.push({ method: request.method, path: url.pathname, params, status: response.status });
        return response;
      };
      if (url.pathname === "/token") return answer(await token(request));
      if (request.method === "GET" && url.pathname.startsWith(`${ROSTERING_PATH}/`)) {
        await delay();
        return answer(rostering(request, url));
      }
      return answer(imsx(404, "unknown endpoint"));
    },
  });
  const base = `http://127.0.0.1:${server.port}`;

  async function delay() {
    const latency = faults.latencyMs;
    if (latency === undefined) return;
    const ms = typeof latency === "number" ? latency : latency[0] + latencyRandom() * (latency[1] - latency[0]);
    await Bun.sleep(ms);
  }

  async function token(request: Request): Promise<Response> {
    if (request.method !== "POST") return imsx(405, "use POST");
    const form = new URLSearchParams(await request.text());
    let clientId = form.get("client_id");
    let clientSecret = form.get("client_secret");
    const basic = /^Basic (.+)$/i.exec(request.headers.get("authorization") ?? "");
    if (basic?.[1]) {
      try {
        const decoded = atob(basic[1]);
        const colon = decoded.indexOf(":");
        clientId = decodeURIComponent(decoded.slice(0, colon));
        clientSecret = decodeURIComponent(decoded.slice(colon + 1));
      } catch {
        return oauthError(401, "invalid_client");
      }
    }
    if (form.get("grant_type") !== "client_credentials") return oauthError(400, "unsupported_grant_type");
    const known = options.clients.some((c) => c.clientId === clientId && c.clientSecret === clientSecret);
    if (!known || faults.refuseTokens) return oauthError(401, "invalid_client");
    const value = crypto.randomUUID();
    tokens.set(value, Date.now() + ttl * 1000);
    return Response.json({ access_token: value, token_type: "Bearer", expires_in: ttl, scope: form.get("scope") ?? "" });
  }

  function rostering(request: Request, url: URL): Response {
    const bearer = /^Bearer (.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    const expiresAt = bearer ? tokens.get(bearer) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now()) return imsx(401, "unauthorized");
    const entity = url.pathname.slice(ROSTERING_PATH.length + 1) as RosterEntity;
    if (!ROSTER_ENTITIES.includes(entity)) return imsx(404, "unknown collection");
    const limit = Math.max(1, Math.min(pageSize, positive(url.searchParams.get("limit"), 100)));
    const offset = positive(url.searchParams.get("offset"), 0);
    for (const [index, fault] of (faults.failPages ?? []).entries()) {
      if (fault.entity !== entity || (fault.offset !== undefined && fault.offset !== offset)) continue;
      const used = failCounts.get(index) ?? 0;
      if (used >= (fault.times ?? Number.POSITIVE_INFINITY)) continue;
      failCounts.set(index, used + 1);
      return imsx(fault.status ?? 500, "injected failure");
    }
    let records = order(entity);
    const filter = url.searchParams.get("filter");
    if (filter !== null) {
      const match = /^\s*dateLastModified\s*(>=|>)\s*'([^']+)'\s*$/.exec(filter);
      const since = match?.[2] ? new Date(match[2]) : null;
      if (!match || !since || Number.isNaN(since.getTime())) return imsx(400, `unsupported filter: ${filter}`);
      const inclusive = match[1] === ">=";
      records = records.filter((record) => {
        const modified = record.dateLastModified?.getTime() ?? 0;
        return inclusive ? modified >= since.getTime() : modified > since.getTime();
      });
    }
    const page = records.slice(offset, offset + limit).map((record) => toRestJson(entity, record, `${base}${ROSTERING_PATH}`));
    const headers = new Headers();
    if (!faults.omitTotalCount) {
      headers.set("x-total-count", String(records.length));
      if (offset + limit < records.length) {
        const next = new URL(url);
        next.searchParams.set("offset", String(offset + limit));
        next.searchParams.set("limit", String(limit));
        headers.set("link", `<${next}>; rel="next"`);
      }
    }
    return Response.json({ [entity]: page }, { headers });
  }

  return {
    url: base,
    tokenUrl: `${base}/token`,
    requests,
    faults,
    setData(next) {
      data = next;
    },
    expireTokens() {
      tokens.clear();
    },
    async stop() {
      await server.stop(true);
    },
  };
}

function positive(value: string | null, fallback: number): number {
  const number = value === null ? Number.NaN : Number.parseInt(value, 10);
  return Number.isFinite(number) && number >= 0 ? number : fallback;
}

function imsx(status: number, description: string): Response {
  return Response.json({ imsx_codeMajor: "failure", imsx_severity: "error", imsx_description: description, imsx_CodeMinor: { imsx_codeMinorField: [] } }, { status });
}

function oauthError(status: number, error: string): Response {
  return Response.json({ error }, { status, headers: status === 401 ? { "www-authenticate": 'Basic realm="token"' } : {} });
}
