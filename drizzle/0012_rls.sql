-- Row-level security: the second layer of tenant isolation (see docs/privacy.md, "Row-level security").
-- The role the app acts as. NOLOGIN: a deployer's login role is granted it (or the owner switches to it).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rapt_app') THEN
    CREATE ROLE rapt_app NOLOGIN;
  END IF;
  IF NOT pg_has_role(current_user, 'rapt_app', 'MEMBER') THEN
    EXECUTE format('GRANT rapt_app TO %I', current_user);
  END IF;
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO rapt_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO rapt_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO rapt_app;
--> statement-breakpoint
-- Read-only: which migrations ran (readiness checks and tests ask).
GRANT USAGE ON SCHEMA drizzle TO rapt_app;
--> statement-breakpoint
GRANT SELECT ON drizzle.__drizzle_migrations TO rapt_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO rapt_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO rapt_app;
--> statement-breakpoint
-- The reach of the current transaction: '*' (the system) or a uuid[] literal of district ids; unset = nothing.
CREATE FUNCTION rapt_reach_all() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(current_setting('rapt.reach', true) = '*', false)
$$;
--> statement-breakpoint
CREATE FUNCTION rapt_reach() RETURNS uuid[] LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN coalesce(current_setting('rapt.reach', true), '') IN ('', '*') THEN '{}'::uuid[]
    ELSE current_setting('rapt.reach', true)::uuid[] END
$$;
--> statement-breakpoint
CREATE FUNCTION rapt_user() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('rapt.user', true), '')::uuid
$$;
--> statement-breakpoint
CREATE FUNCTION rapt_in_reach(tenant uuid) RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT rapt_reach_all() OR tenant = ANY (rapt_reach())
$$;
--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "group_members" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "classes" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "class_members" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "tool_versions" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "assignments" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "submissions" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "extractions" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "ai_settings" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "ai_usage" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "notification_attempts" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "roster_connections" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "roster_links" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "roster_runs" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "theme_assets" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
UPDATE "groups" SET "tenant_id" = replace(subltree("path", 0, 1)::text, '_', '-')::uuid;
--> statement-breakpoint
UPDATE "group_members" x SET "tenant_id" = (SELECT p.tenant_id FROM groups p WHERE p.id = x.group_id);
--> statement-breakpoint
UPDATE "classes" x SET "tenant_id" = (SELECT p.tenant_id FROM groups p WHERE p.id = x.group_id);
--> statement-breakpoint
UPDATE "tools" x SET "tenant_id" = (SELECT p.tenant_id FROM groups p WHERE p.id = x.group_id);
--> statement-breakpoint
UPDATE "sessions" x SET "tenant_id" = (SELECT p.tenant_id FROM groups p WHERE p.id = x.group_id);
--> statement-breakpoint
UPDATE "runs" x SET "tenant_id" = (SELECT p.tenant_id FROM groups p WHERE p.id = x.group_id);
--> statement-breakpoint
UPDATE "ai_settings" x SET "tenant_id" = (SELECT p.tenant_id FROM groups p WHERE p.id = x.group_id);
--> statement-breakpoint
UPDATE "roster_connections" x SET "tenant_id" = (SELECT p.tenant_id FROM groups p WHERE p.id = x.group_id);
--> statement-breakpoint
UPDATE "theme_assets" x SET "tenant_id" = (SELECT p.tenant_id FROM groups p WHERE p.id = x.group_id);
--> statement-breakpoint
UPDATE "audit_log" x SET "tenant_id" = (SELECT p.tenant_id FROM groups p WHERE p.id = x.group_id);
--> statement-breakpoint
UPDATE "class_members" x SET "tenant_id" = (SELECT p.tenant_id FROM classes p WHERE p.id = x.class_id);
--> statement-breakpoint
UPDATE "assignments" x SET "tenant_id" = (SELECT p.tenant_id FROM classes p WHERE p.id = x.class_id);
--> statement-breakpoint
UPDATE "tool_versions" x SET "tenant_id" = (SELECT p.tenant_id FROM tools p WHERE p.id = x.tool_id);
--> statement-breakpoint
UPDATE "messages" x SET "tenant_id" = (SELECT p.tenant_id FROM sessions p WHERE p.id = x.session_id);
--> statement-breakpoint
UPDATE "submissions" x SET "tenant_id" = (SELECT p.tenant_id FROM assignments p WHERE p.id = x.assignment_id);
--> statement-breakpoint
UPDATE "extractions" x SET "tenant_id" = coalesce((SELECT g.tenant_id FROM groups g WHERE g.id = x.group_id), (SELECT s.tenant_id FROM sessions s WHERE s.id = x.session_id), (SELECT u.tenant_id FROM runs u WHERE u.id = x.run_id));
--> statement-breakpoint
UPDATE "ai_usage" x SET "tenant_id" = coalesce((SELECT g.tenant_id FROM groups g WHERE g.id = x.group_id), (SELECT s.tenant_id FROM sessions s WHERE s.id = x.session_id), (SELECT u.tenant_id FROM runs u WHERE u.id = x.run_id), (SELECT c.tenant_id FROM classes c WHERE c.id = x.class_id));
--> statement-breakpoint
UPDATE "notification_deliveries" x SET "tenant_id" = coalesce((SELECT g.tenant_id FROM groups g WHERE g.id = x.group_id), (SELECT e.tenant_id FROM extractions e WHERE e.id = x.alert_id));
--> statement-breakpoint
UPDATE "notification_attempts" x SET "tenant_id" = (SELECT p.tenant_id FROM notification_deliveries p WHERE p.id = x.delivery_id);
--> statement-breakpoint
UPDATE "roster_links" x SET "tenant_id" = (SELECT p.tenant_id FROM roster_connections p WHERE p.id = x.connection_id);
--> statement-breakpoint
UPDATE "roster_runs" x SET "tenant_id" = (SELECT p.tenant_id FROM roster_connections p WHERE p.id = x.connection_id);
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_of_group() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.tenant_id := replace(subltree(NEW.path, 0, 1)::text, '_', '-')::uuid;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_via_group() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_id := (SELECT p.tenant_id FROM groups p WHERE p.id = NEW.group_id);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_via_class() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_id := (SELECT p.tenant_id FROM classes p WHERE p.id = NEW.class_id);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_via_tool() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_id := (SELECT p.tenant_id FROM tools p WHERE p.id = NEW.tool_id);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_via_session() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_id := (SELECT p.tenant_id FROM sessions p WHERE p.id = NEW.session_id);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_via_assignment() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_id := (SELECT p.tenant_id FROM assignments p WHERE p.id = NEW.assignment_id);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_via_delivery() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_id := (SELECT p.tenant_id FROM notification_deliveries p WHERE p.id = NEW.delivery_id);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_via_connection() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_id := (SELECT p.tenant_id FROM roster_connections p WHERE p.id = NEW.connection_id);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_of_extraction() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_id := coalesce((SELECT g.tenant_id FROM groups g WHERE g.id = NEW.group_id), (SELECT s.tenant_id FROM sessions s WHERE s.id = NEW.session_id), (SELECT u.tenant_id FROM runs u WHERE u.id = NEW.run_id));
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_of_ai_usage() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_id := coalesce((SELECT g.tenant_id FROM groups g WHERE g.id = NEW.group_id), (SELECT s.tenant_id FROM sessions s WHERE s.id = NEW.session_id), (SELECT u.tenant_id FROM runs u WHERE u.id = NEW.run_id), (SELECT c.tenant_id FROM classes c WHERE c.id = NEW.class_id));
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION rapt_tenant_of_delivery() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.tenant_id := coalesce((SELECT g.tenant_id FROM groups g WHERE g.id = NEW.group_id), (SELECT e.tenant_id FROM extractions e WHERE e.id = NEW.alert_id));
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF path ON "groups" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_of_group();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id ON "group_members" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_group();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id ON "classes" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_group();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF class_id ON "class_members" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_class();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id ON "tools" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_group();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF tool_id ON "tool_versions" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_tool();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF class_id ON "assignments" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_class();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id ON "sessions" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_group();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF session_id ON "messages" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_session();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id ON "runs" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_group();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF assignment_id ON "submissions" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_assignment();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id, session_id, run_id ON "extractions" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_of_extraction();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id ON "ai_settings" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_group();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id, session_id, run_id, class_id ON "ai_usage" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_of_ai_usage();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id, alert_id ON "notification_deliveries" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_of_delivery();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF delivery_id ON "notification_attempts" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_delivery();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id ON "roster_connections" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_group();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF connection_id ON "roster_links" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_connection();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF connection_id ON "roster_runs" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_connection();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id ON "theme_assets" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_group();
--> statement-breakpoint
CREATE TRIGGER rapt_tenant BEFORE INSERT OR UPDATE OF group_id ON "audit_log" FOR EACH ROW EXECUTE FUNCTION rapt_tenant_via_group();
--> statement-breakpoint
CREATE FUNCTION rapt_push_tenant() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE i integer := 0;
BEGIN
  WHILE i < TG_NARGS LOOP
    EXECUTE format('UPDATE %I SET tenant_id = $1 WHERE %I = $2 AND tenant_id IS DISTINCT FROM $1', TG_ARGV[i], TG_ARGV[i + 1]) USING NEW.tenant_id, NEW.id;
    i := i + 2;
  END LOOP;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER rapt_push_tenant AFTER UPDATE ON "groups" FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION rapt_push_tenant('group_members', 'group_id', 'classes', 'group_id', 'tools', 'group_id', 'sessions', 'group_id', 'runs', 'group_id', 'extractions', 'group_id', 'ai_settings', 'group_id', 'ai_usage', 'group_id', 'notification_deliveries', 'group_id', 'roster_connections', 'group_id', 'theme_assets', 'group_id', 'audit_log', 'group_id');
--> statement-breakpoint
CREATE TRIGGER rapt_push_tenant AFTER UPDATE ON "classes" FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION rapt_push_tenant('class_members', 'class_id', 'assignments', 'class_id', 'ai_usage', 'class_id');
--> statement-breakpoint
CREATE TRIGGER rapt_push_tenant AFTER UPDATE ON "tools" FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION rapt_push_tenant('tool_versions', 'tool_id');
--> statement-breakpoint
CREATE TRIGGER rapt_push_tenant AFTER UPDATE ON "sessions" FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION rapt_push_tenant('messages', 'session_id', 'extractions', 'session_id', 'ai_usage', 'session_id');
--> statement-breakpoint
CREATE TRIGGER rapt_push_tenant AFTER UPDATE ON "assignments" FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION rapt_push_tenant('submissions', 'assignment_id');
--> statement-breakpoint
CREATE TRIGGER rapt_push_tenant AFTER UPDATE ON "runs" FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION rapt_push_tenant('extractions', 'run_id', 'ai_usage', 'run_id');
--> statement-breakpoint
CREATE TRIGGER rapt_push_tenant AFTER UPDATE ON "extractions" FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION rapt_push_tenant('notification_deliveries', 'alert_id');
--> statement-breakpoint
CREATE TRIGGER rapt_push_tenant AFTER UPDATE ON "notification_deliveries" FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION rapt_push_tenant('notification_attempts', 'delivery_id');
--> statement-breakpoint
CREATE TRIGGER rapt_push_tenant AFTER UPDATE ON "roster_connections" FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION rapt_push_tenant('roster_links', 'connection_id', 'roster_runs', 'connection_id');
--> statement-breakpoint
ALTER TABLE "groups" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "groups" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "group_members" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "group_members" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "classes" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "classes" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "class_members" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "class_members" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "tools" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "tools" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "tool_versions" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "tool_versions" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "assignments" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "assignments" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "sessions" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "sessions" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "messages" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "messages" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "runs" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "runs" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "submissions" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "submissions" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "extractions" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "extractions" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "notification_deliveries" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "notification_deliveries" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "notification_attempts" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "notification_attempts" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "roster_connections" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "roster_connections" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "roster_links" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "roster_links" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "roster_runs" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "roster_runs" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "theme_assets" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "theme_assets" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
ALTER TABLE "audit_log" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "audit_log" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
-- A record of something outside any district (no group) may be written from any scope, read by the system only.
CREATE POLICY tenant_reach_insert_unplaced ON "audit_log" FOR INSERT WITH CHECK (tenant_id IS NULL);
--> statement-breakpoint
ALTER TABLE "ai_usage" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "ai_usage" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
-- A record of something outside any district (no group) may be written from any scope, read by the system only.
CREATE POLICY tenant_reach_insert_unplaced ON "ai_usage" FOR INSERT WITH CHECK (tenant_id IS NULL);
--> statement-breakpoint
ALTER TABLE "ai_settings" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_reach ON "ai_settings" USING (rapt_in_reach(tenant_id)) WITH CHECK (rapt_in_reach(tenant_id));
--> statement-breakpoint
-- The system-wide row (no group) is every district's default: readable from any scope.
CREATE POLICY tenant_reach_read_system ON "ai_settings" FOR SELECT USING (tenant_id IS NULL);
--> statement-breakpoint
-- Per row, two index lookups (a policy's EXISTS would be planned as a hash of every membership).
-- SECURITY DEFINER: it checks the district itself, without the memberships' own policies.
CREATE FUNCTION rapt_person_in_reach(person uuid) RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM group_members gm WHERE gm.user_id = person AND gm.tenant_id = ANY (rapt_reach()))
    OR EXISTS (SELECT 1 FROM class_members cm WHERE cm.user_id = person AND cm.tenant_id = ANY (rapt_reach()));
END $$;
--> statement-breakpoint
ALTER TABLE "users" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
-- A person is visible to the districts they belong (or belonged) to, and to themselves.
CREATE POLICY tenant_reach ON "users"
  USING (rapt_reach_all() OR id = rapt_user() OR rapt_person_in_reach(id))
  WITH CHECK (rapt_reach_all() OR id = rapt_user() OR rapt_person_in_reach(id));
