ALTER TABLE "groups" ADD COLUMN "clerk_slug" text;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "reason" text;--> statement-breakpoint
CREATE INDEX "groups_clerk_slug_idx" ON "groups" USING btree ("clerk_slug");