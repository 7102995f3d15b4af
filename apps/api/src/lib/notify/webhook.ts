import { Webhook } from "svix";

/** What a school's endpoint receives: ids and category only; it fetches details with its own credentials. */
export interface WebhookEvent {
  type: "alert.created" | "alert.escalated";
  timestamp: string;
  data: Record<string, unknown>;
}

/** The part of `fetch` webhooks use (tests pass their own). */
export type WebhookFetch = (url: string, init: RequestInit) => Promise<Response>;

export class WebhookFailure extends Error {}

/**
 * POSTs one event signed with the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`), which the `svix` library verifies. The message id is the delivery's id,
 * the same on every retry, so the receiver can drop duplicates. Redirects are not followed (a
 * redirect could leave the configured host, and a loop must not spin): a 3xx is a failure, as
 * is any non-2xx answer or no answer within `timeoutMs`.
 */
export async function postWebhook(input: {
  url: string;
  secret: string;
  messageId: string;
  event: WebhookEvent;
  at: Date;
  timeoutMs: number;
  fetch?: WebhookFetch | undefined;
}): Promise<{ status: number }> {
  const body = JSON.stringify(input.event);
  const signature = new Webhook(input.secret).sign(input.messageId, input.at, body);
  const doFetch: WebhookFetch = input.fetch ?? ((url, init) => fetch(url, init));
  let res: Response;
  try {
    res = await doFetch(input.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(input.timeoutMs),
      headers: {
        "content-type": "application/json",
        "user-agent": "raptscallions-webhooks/1",
        "webhook-id": input.messageId,
        "webhook-timestamp": String(Math.floor(input.at.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body,
    });
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    throw new WebhookFailure(
      name === "TimeoutError" || name === "AbortError" ? `no answer within ${input.timeoutMs} ms` : `unreachable: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  // Drain the body so the connection can be reused; its content is not ours to keep.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) throw new WebhookFailure(`HTTP ${res.status}${res.status >= 300 && res.status < 400 ? " (redirects are not followed)" : ""}`);
  return { status: res.status };
}
