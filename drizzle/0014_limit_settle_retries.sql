CREATE TABLE "limit_settle_retries" (
	"subject" text PRIMARY KEY NOT NULL,
	"tokens" integer NOT NULL,
	"cost_micros" bigint NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_tried_at" timestamp with time zone DEFAULT now() NOT NULL
);
