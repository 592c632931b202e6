-- A stack may constrain the terraform version (`~> 1.11`); the worker picks one of its binaries that satisfies it. Null: no constraint.
ALTER TABLE "stacks" ADD COLUMN "terraform_version" TEXT;
