-- API tokens: organization service tokens (no user) and the address of a token's last use.
ALTER TABLE "api_keys" ADD COLUMN "service" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "last_used_ip" TEXT;

-- A service token belongs to the organization: it never has a user (a personal token whose user was
-- deleted has none either, and then no rights).
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_service_has_no_user" CHECK (NOT "service" OR "user_id" IS NULL);

-- Audit log: the outcome of each action and the client's user agent.
CREATE TYPE "audit_outcome" AS ENUM ('success', 'denied', 'failed');

ALTER TABLE "audit_logs" ADD COLUMN "outcome" "audit_outcome" NOT NULL DEFAULT 'success',
ADD COLUMN "user_agent" TEXT;

-- An audit row outlives what it names: no foreign keys, whose cascades would delete or rewrite it.
ALTER TABLE "audit_logs" DROP CONSTRAINT "audit_logs_organization_id_fkey";
ALTER TABLE "audit_logs" DROP CONSTRAINT "audit_logs_tenant_id_fkey";
ALTER TABLE "audit_logs" DROP CONSTRAINT "audit_logs_actor_user_id_fkey";

-- Append-only, whoever connects: rows are inserted, never changed or removed.
CREATE FUNCTION "audit_logs_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_logs is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_logs_no_update_or_delete" BEFORE UPDATE OR DELETE ON "audit_logs"
  FOR EACH ROW EXECUTE FUNCTION "audit_logs_append_only"();
CREATE TRIGGER "audit_logs_no_truncate" BEFORE TRUNCATE ON "audit_logs"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_logs_append_only"();
