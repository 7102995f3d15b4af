ALTER TABLE "groups" ADD COLUMN "clerk_parent_org_id" text;--> statement-breakpoint
CREATE INDEX "groups_clerk_parent_idx" ON "groups" USING btree ("clerk_parent_org_id");