-- Checkout (issue 13): how a run clones the pipeline's repository, and the tenant secret (its name only)
-- holding the credentials.
ALTER TABLE "pipelines" ADD COLUMN     "clone_depth" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "submodules" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "credentials_secret" TEXT;
