import type { RosterEntity, RosterRecords } from "../records.ts";
import { type ReadOptions, type RejectedRecord, type RosterPage, type RosterSource, RosterSourceError } from "../source.ts";
import { checkRecord } from "../validate.ts";
import { DEFAULT_RETRY, type FetchLike, fetchWithRetry, type RetryPolicy } from "./http.ts";
import { isObject, JSON_CANDIDATES, JsonRecordError } from "./json-records.ts";
import { TokenCache } from "./token.ts";

export const ROSTER_CORE_READONLY_SCOPE = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly";
const ROSTERING_PATH = "/ims/oneroster/rostering/v1p2";

export interface OneRosterRestOptions {
  /** The server's root, or its rostering base ending in `/ims/oneroster/rostering/v1p2`. */
  baseUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Default: the 1.2 roster-core read-only scope; "" sends none. */
  scope?: string;
  fetch?: FetchLike;
  /** `limit` asked for per page. Default 500. */
  pageSize?: number;
  retry?: Partial<RetryPolicy>;
  /** Milliseconds since the epoch, for token expiry. */
  now?: () => number;
}

/**
 * A OneRoster 1.2 REST server as a roster source: OAuth 2 client credentials, `limit`/`offset`
 * paging, deltas through `filter=dateLastModified>'…'` when `since` is given. Fails with
 * `RosterSourceError`: `unauthorized` (credentials or token refused), `unreachable` (network,
 * time-outs, 429/5xx after the retries), `bad_response` (anything else that is not a page).
 */
export function createOneRosterRestSource(options: OneRosterRestOptions): RosterSource {
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const pageSize = options.pageSize ?? 500;
  const root = options.baseUrl.replace(/\/+$/, "");
  const rostering = root.endsWith(ROSTERING_PATH) ? root : `${root}${ROSTERING_PATH}`;
  const tokens = new TokenCache(
    {
      tokenUrl: options.tokenUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      scope: options.scope ?? ROSTER_CORE_READONLY_SCOPE,
    },
    fetchImpl,
    policy,
    options.now ?? Date.now,
  );

  async function getPage(url: string, signal?: AbortSignal): Promise<Response> {
    for (let attempt = 0; ; attempt += 1) {
      const token = await tokens.get(signal);
      const response = await fetchWithRetry(fetchImpl, url, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } }, policy, signal);
      if (response.status !== 401) return response;
      await response.body?.cancel().catch(() => undefined);
      // A token can expire or be revoked before our clock says so: one fresh token, then give up.
      tokens.refused(token);
      if (attempt >= 1) throw new RosterSourceError("unauthorized", "the server refused a freshly issued token");
    }
  }

  return {
    async mode(_entity, readOptions) {
      return readOptions?.since ? "delta" : "bulk";
    },
    async *read<E extends RosterEntity>(entity: E, readOptions: ReadOptions = {}): AsyncIterable<RosterPage<E>> {
      let offset = 0;
      let previousFirst: string | null = null;
      for (;;) {
        const query = new URLSearchParams({ limit: String(pageSize), offset: String(offset) });
        if (readOptions.since) query.set("filter", `dateLastModified>'${readOptions.since.toISOString()}'`);
        const response = await getPage(`${rostering}/${entity}?${query}`, readOptions.signal);
        const items = await pageItems(entity, response);
        const first = isObject(items[0]) && typeof items[0].sourcedId === "string" ? items[0].sourcedId : null;
        if (first !== null && first === previousFirst) {
          throw new RosterSourceError("bad_response", `${entity}: the server answered the same page for offset ${offset}`);
        }
        previousFirst = first;
        yield toPage(entity, items);
        offset += items.length;
        const total = Number.parseInt(response.headers.get("x-total-count") ?? "", 10);
        const more = Number.isFinite(total) ? offset < total : items.length >= pageSize || /rel="?next"?/.test(response.headers.get("link") ?? "");
        if (!more || items.length === 0) return;
      }
    },
  };
}

async function pageItems(entity: RosterEntity, response: Response): Promise<unknown[]> {
  if (response.status === 403) {
    throw new RosterSourceError("unauthorized", `${entity}: HTTP 403, the client may not read ${entity}`);
  }
  if (!response.ok) throw new RosterSourceError("bad_response", `${entity}: HTTP ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new RosterSourceError("bad_response", `${entity}: the page is not JSON`, { cause: error });
  }
  const items = isObject(body) ? body[entity] : undefined;
  if (!Array.isArray(items)) throw new RosterSourceError("bad_response", `${entity}: the page has no "${entity}" array`);
  return items;
}

function toPage<E extends RosterEntity>(entity: E, items: unknown[]): RosterPage<E> {
  const records: RosterRecords[E][] = [];
  const rejected: RejectedRecord[] = [];
  for (const item of items) {
    if (!isObject(item)) {
      rejected.push({ entity, reason: "not a JSON object" });
      continue;
    }
    const sourcedId = typeof item.sourcedId === "string" && item.sourcedId !== "" ? item.sourcedId : undefined;
    try {
      const checked = checkRecord(entity, JSON_CANDIDATES[entity](item));
      if (checked.ok) records.push(checked.record);
      else rejected.push({ entity, sourcedId, reason: checked.reason });
    } catch (error) {
      if (!(error instanceof JsonRecordError)) throw error;
      rejected.push({ entity, sourcedId, reason: error.message });
    }
  }
  return { records, rejected };
}
