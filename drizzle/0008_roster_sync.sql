CREATE TABLE "roster_connections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"group_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"base_url" text,
	"token_url" text,
	"client_id" text,
	"secret_ciphertext" text,
	"secret_key_id" text,
	"secret_last4" text,
	"interval_minutes" integer,
	"enabled" boolean DEFAULT true NOT NULL,
	"delta_since" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "roster_connections_interval_check" CHECK ("roster_connections"."interval_minutes" is null or "roster_connections"."interval_minutes" >= 5)
);
--> statement-breakpoint
CREATE TABLE "roster_links" (
	"connection_id" uuid NOT NULL,
	"entity" text NOT NULL,
	"sourced_id" text NOT NULL,
	"local_id" text,
	"date_last_modified" timestamp with time zone,
	"content_hash" text NOT NULL,
	"data" jsonb,
	"removed_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "roster_links_connection_id_entity_sourced_id_pk" PRIMARY KEY("connection_id","entity","sourced_id")
);
--> statement-breakpoint
CREATE TABLE "roster_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"connection_id" uuid NOT NULL,
	"trigger" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"mode" text DEFAULT 'full' NOT NULL,
	"requested_by" uuid,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"rejected" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"rejected_count" integer DEFAULT 0 NOT NULL,
	"error" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "sis_sourced_id" text;--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "roster_connection_id" uuid;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "sis_id" text;--> statement-breakpoint
ALTER TABLE "class_members" ADD COLUMN "roster_connection_id" uuid;--> statement-breakpoint
ALTER TABLE "classes" ADD COLUMN "roster_connection_id" uuid;--> statement-breakpoint
ALTER TABLE "roster_connections" ADD CONSTRAINT "roster_connections_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "roster_connections" ADD CONSTRAINT "roster_connections_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "roster_links" ADD CONSTRAINT "roster_links_connection_id_roster_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."roster_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "roster_runs" ADD CONSTRAINT "roster_runs_connection_id_roster_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."roster_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "roster_runs" ADD CONSTRAINT "roster_runs_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "roster_connections_group_idx" ON "roster_connections" USING btree ("group_id");--> statement-breakpoint
CREATE INDEX "roster_links_local_idx" ON "roster_links" USING btree ("connection_id","entity","local_id");--> statement-breakpoint
CREATE INDEX "roster_runs_connection_idx" ON "roster_runs" USING btree ("connection_id","created_at");--> statement-breakpoint
CREATE INDEX "groups_sis_sourced_idx" ON "groups" USING btree ("sis_sourced_id");--> statement-breakpoint
CREATE INDEX "users_email_lower_idx" ON "users" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "users_sis_id_idx" ON "users" USING btree ("sis_id");