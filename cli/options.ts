/** Helpers for commander options shared by the commands. */

/** A repeatable option (`--var a=1 --var b=2`) collected into a list. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
