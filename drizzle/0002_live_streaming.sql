ALTER TABLE "messages" ADD COLUMN "checkpoint_offset" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "checkpoint_epoch" text;--> statement-breakpoint
CREATE UNIQUE INDEX "messages_one_streaming_key" ON "messages" USING btree ("session_id") WHERE "messages"."state" = 'streaming';