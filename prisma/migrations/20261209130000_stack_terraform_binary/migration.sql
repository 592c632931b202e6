-- A stack may name one of the worker's terraform binaries (BUILDIT_TERRAFORM_BINS); null: the worker's default.
ALTER TABLE "stacks" ADD COLUMN "terraform_binary" TEXT;
