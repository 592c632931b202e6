-- The sign-in rate limit counts recent failed `auth.sign_in` rows of one account (target_id) and of one
-- client address (ip): each count reads at most a handful of index entries, however large the log grows.
CREATE INDEX "audit_logs_action_target_id_created_at_idx" ON "audit_logs"("action", "target_id", "created_at");

CREATE INDEX "audit_logs_action_ip_created_at_idx" ON "audit_logs"("action", "ip", "created_at");
