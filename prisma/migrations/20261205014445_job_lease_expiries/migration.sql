-- The number of lease expirations in a row gets a column of its own. Until now the claim parsed it out of
-- last_error ('lease expired N times (worker crashed?)'); jobs that carry such a message keep their count.
-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "lease_expiries" INTEGER NOT NULL DEFAULT 0;

UPDATE "jobs"
SET "lease_expiries" = substring("last_error" FROM '^lease expired (\d+) times')::int
WHERE "last_error" ~ '^lease expired \d+ times \(worker crashed\?\)$';
