-- Entries written before audit_log had an actor kind: the ones no person ever wrote are
-- attributed to the job or integration that wrote them. Other entries without an actor id keep
-- kind 'user' (their user row was deleted since).
UPDATE "audit_log" SET "actor_kind" = 'system', "actor_name" = 'retention' WHERE "actor_id" IS NULL AND "action" = 'retention.scrub';--> statement-breakpoint
UPDATE "audit_log" SET "actor_kind" = 'system', "actor_name" = 'budget-alerts' WHERE "actor_id" IS NULL AND "action" = 'ai.budget.threshold';--> statement-breakpoint
UPDATE "audit_log" SET "actor_kind" = 'integration', "actor_name" = 'Clerk', "actor_integration_id" = 'clerk' WHERE "actor_id" IS NULL AND "action" LIKE 'webhook.clerk.%';
