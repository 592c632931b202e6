/** A mistake in the command line, the configuration or an input file: printed as is, exit code EXIT_USAGE (2). */
export class UsageError extends Error {}
