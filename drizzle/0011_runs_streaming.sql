ALTER TABLE "runs" ADD COLUMN "stream_owner" text;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "heartbeat_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "checkpoint_offset" integer;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "checkpoint_epoch" text;--> statement-breakpoint
CREATE INDEX "runs_class_idx" ON "runs" USING btree ("class_id","created_at");--> statement-breakpoint
CREATE INDEX "runs_running_idx" ON "runs" USING btree ("heartbeat_at") WHERE "runs"."state" = 'running';