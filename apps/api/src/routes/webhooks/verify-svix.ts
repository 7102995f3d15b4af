import { AppError, UnauthenticatedError } from "@raptscallions/core";
import { Webhook, WebhookVerificationError } from "svix";

/** A delivery whose signature checked out. */
export interface VerifiedDelivery {
  svixId: string;
  /** `svix-timestamp` in ms: when this attempt was signed. */
  signedAtMs: number;
}

const SVIX_ID = /^[A-Za-z0-9_.:-]{1,200}$/;

function reasonOf(err: WebhookVerificationError): string {
  if (/too old|too new/i.test(err.message)) return "timestamp-out-of-tolerance";
  if (/missing/i.test(err.message)) return "missing-headers";
  return "bad-signature";
}

/**
 * Verifies a Svix signature over the raw body exactly as received (re-serialised JSON would not
 * match). Svix enforces the 5-minute timestamp tolerance. Every failure is a 401 carrying a
 * `reason`, before anything is parsed or written.
 */
export function verifySvixDelivery(secret: string, rawBody: string, header: (name: string) => string | undefined): VerifiedDelivery {
  const svixId = header("svix-id");
  const timestamp = header("svix-timestamp");
  const signature = header("svix-signature");
  if (!svixId || !timestamp || !signature) {
    throw new UnauthenticatedError("Missing Svix signature headers", { reason: "missing-headers" });
  }
  if (!SVIX_ID.test(svixId)) throw new UnauthenticatedError("Malformed svix-id", { reason: "bad-headers" });

  let verifier: Webhook;
  try {
    verifier = new Webhook(secret);
  } catch (err) {
    // The secret passed env validation (whsec_ prefix) but is not valid base64: our fault, not Clerk's.
    throw new AppError("SERVICE_UNAVAILABLE", "Webhook signing secret is misconfigured", { cause: err });
  }
  try {
    verifier.verify(rawBody, { "svix-id": svixId, "svix-timestamp": timestamp, "svix-signature": signature });
  } catch (err) {
    if (err instanceof WebhookVerificationError) {
      throw new UnauthenticatedError("Webhook signature verification failed", { reason: reasonOf(err) });
    }
    throw new UnauthenticatedError("Webhook signature verification failed", { reason: "bad-signature" });
  }
  return { svixId, signedAtMs: Number.parseInt(timestamp, 10) * 1000 };
}
