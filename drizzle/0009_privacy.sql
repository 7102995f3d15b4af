ALTER TABLE "users" ADD COLUMN "under13_clerk" boolean;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "under13_roster" boolean;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "under13" boolean GENERATED ALWAYS AS (coalesce(under13_clerk, false) or coalesce(under13_roster, false)) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "erased_at" timestamp with time zone;