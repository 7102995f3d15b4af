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
  /** Pages fetched at once when the server sends `X-Total-Count`. Default 4. */
  concurrency?: number;
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
  const concurrency = Math.max(1, options.concurrency ?? 4);
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
      // Stops the pages still in flight when the reader leaves early or one page fails.
      const stop = new AbortController();
      const signal = readOptions.signal ? AbortSignal.any([readOptions.signal, stop.signal]) : stop.signal;
      const load = (offset: number, limit: number) => {
        const query = new URLSearchParams({ limit: String(limit), offset: String(offset) });
        if (readOptions.since) query.set("filter", `dateLastModified>'${readOptions.since.toISOString()}'`);
        return fetchPage(entity, `${rostering}/${entity}?${query}`, signal);
      };
      const pages = new SamePageGuard(entity);
      try {
        let page = await load(0, pageSize);
        pages.check(page);
        yield toPage(entity, page.items);
        if (page.total !== null) {
          // The server said how many there are: fetch the other pages a few at a time and hand
          // them on in order. The first page's length is the stride, in case the server grants
          // smaller pages than asked.
          const stride = page.items.length;
          const offsets: number[] = [];
          for (let offset = stride; stride > 0 && offset < page.total; offset += stride) offsets.push(offset);
          const inFlight: Promise<FetchedPage>[] = [];
          const startNext = () => {
            const offset = offsets.shift();
            if (offset === undefined) return;
            const pending = load(offset, stride);
            pending.catch(() => undefined); // awaited in order below; not unhandled meanwhile
            inFlight.push(pending);
          };
          while (offsets.length > 0 && inFlight.length < concurrency) startNext();
          for (let pending = inFlight.shift(); pending; pending = inFlight.shift()) {
            const next = await pending;
            startNext();
            pages.check(next);
            yield toPage(entity, next.items);
          }
          return;
        }
        let offset = page.items.length;
        while (page.more && page.items.length > 0) {
          page = await load(offset, pageSize);
          pages.check(page);
          yield toPage(entity, page.items);
          offset += page.items.length;
        }
      } finally {
        stop.abort();
      }
    },
  };

  interface FetchedPage {
    items: unknown[];
    /** `X-Total-Count`, when the server sent it. */
    total: number | null;
    /** Without a total: a full page or a `Link: rel="next"` says there may be more. */
    more: boolean;
  }

  async function fetchPage(entity: RosterEntity, url: string, signal: AbortSignal): Promise<FetchedPage> {
    const response = await getPage(url, signal);
    const items = await pageItems(entity, response);
    const total = Number.parseInt(response.headers.get("x-total-count") ?? "", 10);
    const more = items.length >= pageSize || /rel="?next"?/.test(response.headers.get("link") ?? "");
    return { items, total: Number.isFinite(total) && total >= 0 ? total : null, more };
  }
}

/** A server that ignores `offset` answers the same page forever: caught instead of read forever. */
class SamePageGuard {
  private previous: string | null = null;
  constructor(private readonly entity: RosterEntity) {}

  check(page: { items: unknown[] }): void {
    const head = page.items[0];
    const first = isObject(head) && typeof head.sourcedId === "string" ? head.sourcedId : null;
    if (first !== null && first === this.previous) {
      throw new RosterSourceError("bad_response", `${this.entity}: the server answered the same page twice`);
    }
    this.previous = first;
  }
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
