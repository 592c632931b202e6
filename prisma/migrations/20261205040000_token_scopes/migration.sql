-- API token scopes became finer (read, runs:trigger, pipelines:write, secrets:write, stacks:plan,
-- stacks:apply, admin): a token that had `write` keeps exactly what `write` granted.
UPDATE "api_keys"
   SET "scopes" = array_remove("scopes", 'write') || ARRAY['runs:trigger', 'pipelines:write', 'secrets:write']::text[]
 WHERE 'write' = ANY("scopes");
