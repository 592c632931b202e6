/**
 * Exit codes of every `buildit` command (docs/cli-run.md, docs/cli-remote.md). Their own module, so commands
 * and cli/main.ts both import them without importing each other.
 */

/** The command did what it was asked; a run succeeded. */
export const EXIT_SUCCEEDED = 0;
/** A run failed, a pipeline is invalid (validate, plan), or the server refused or failed. */
export const EXIT_FAILED = 1;
/** Bad arguments, configuration or input: an unknown option, an unreadable file, not logged in, an invalid pipeline for `run`. */
export const EXIT_USAGE = 2;
/** Cancelled with Ctrl-C (128 + SIGINT, as shells report it). */
export const EXIT_CANCELLED = 130;
