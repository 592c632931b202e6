/**
 * Which of the worker's binaries (./binary.ts) runs a stack that has a version constraint (./constraint.ts).
 * Nothing can be downloaded, so the constraint is met from the binaries the worker has: the one the stack
 * names must satisfy it; a stack that names none runs the default if it satisfies it, else the named binary
 * with the highest version that does. Each binary tells its version (`version -json`) once per worker.
 */
import { tmpdir } from 'node:os';
import { rcompare } from './semver';
import { messageOf } from '../../errors';
import { binaryFor, type TerraformBinaries } from './binary';
import { parseVersionConstraint, satisfiesConstraint, type VersionConstraint } from './constraint';
import { runTerraform } from './process';

const PROBE_TIMEOUT_MS = 30_000;

/**
 * Versions by binary path, for the worker's lifetime: a binary replaced in place is seen after a restart.
 * A failed probe is forgotten, so a binary installed later is found by the next run.
 */
const versions = new Map<string, Promise<string>>();

async function probe(binary: string): Promise<string> {
  const stdout: string[] = [];
  const exit = await runTerraform({
    binary,
    cwd: tmpdir(),
    args: ['version', '-json'],
    // No check for a newer release: the worker may have no network.
    env: { CHECKPOINT_DISABLE: '1' },
    onLine: (stream, line) => void (stream === 'stdout' && stdout.push(line)),
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    graceMs: 1_000,
  });
  if (exit.code !== 0) throw new Error(`\`${binary} version -json\` exited with ${exit.code ?? 'a signal'}`);
  let version: unknown;
  try {
    version = (JSON.parse(stdout.join('\n')) as { terraform_version?: unknown }).terraform_version;
  } catch {
    // reported below
  }
  if (typeof version !== 'string') throw new Error(`\`${binary} version -json\` printed no terraform_version`);
  return version;
}

/** The binary's version (`terraform_version` of `<binary> version -json`), asked once per path. */
export function binaryVersion(binary: string): Promise<string> {
  let version = versions.get(binary);
  if (version === undefined) {
    version = probe(binary);
    versions.set(binary, version);
    version.catch(() => versions.delete(binary));
  }
  return version;
}

export class UnsatisfiedConstraintError extends Error {
  override name = 'UnsatisfiedConstraintError';
}

interface Candidate {
  /** `the default` or the binary's name in quotes. */
  label: string;
  binary: string;
  version: string | null;
  /** Why the version is unknown. */
  problem?: string;
}

async function candidate(label: string, binary: string): Promise<Candidate> {
  try {
    return { label, binary, version: await binaryVersion(binary) };
  } catch (error) {
    return { label, binary, version: null, problem: messageOf(error) };
  }
}

const fits = (constraint: VersionConstraint, found: Candidate) => found.version !== null && satisfiesConstraint(constraint, found.version);
const described = (found: Candidate) => `${found.label}: ${found.version ?? `version unknown (${found.problem})`}`;

/**
 * The binary that runs the stack. Without a constraint, binaryFor's choice (no binary is asked its version).
 * `log` hears which binary and version a constraint chose. None satisfies the constraint: an
 * UnsatisfiedConstraintError listing every binary with its version and what to do.
 */
export async function chooseBinary(
  binaries: TerraformBinaries,
  stack: { terraformBinary: string | null; terraformVersion: string | null },
  log: (line: string) => void,
): Promise<string> {
  const own = binaryFor(binaries, stack.terraformBinary);
  if (stack.terraformVersion === null) return own;
  const constraint = parseVersionConstraint(stack.terraformVersion);
  const chosen = (found: Candidate) => {
    log(`terraform ${found.version} (${found.label}, ${found.binary}) satisfies the stack's version constraint "${constraint.text}"`);
    return found.binary;
  };
  const listing = (all: Candidate[]) => `this worker's binaries: ${all.map(described).join('; ')}`;
  const others = () => Promise.all([...binaries.named].map(([name, binary]) => candidate(`"${name}"`, binary)));

  if (stack.terraformBinary !== null) {
    const found = await candidate(`"${stack.terraformBinary}"`, own);
    if (fits(constraint, found)) return chosen(found);
    throw new UnsatisfiedConstraintError(
      `the stack's terraform binary ${described(found)}, which does not satisfy its version constraint "${constraint.text}"; ` +
        `${listing([await candidate('the default', binaries.default), ...(await others())])}. ` +
        'Choose one that satisfies it in the stack settings (or none: the worker then picks one), install a terraform that satisfies it on the worker ' +
        'and add it to BUILDIT_TERRAFORM_BINS, or change the constraint',
    );
  }
  const fallback = await candidate('the default', binaries.default);
  if (fits(constraint, fallback)) return chosen(fallback);
  const named = await others();
  // Highest version first; equal versions keep BUILDIT_TERRAFORM_BINS's order.
  const best = named.filter((found) => fits(constraint, found)).sort((a, b) => rcompare(a.version!, b.version!))[0];
  if (best) return chosen(best);
  throw new UnsatisfiedConstraintError(
    `no terraform binary of this worker satisfies the stack's version constraint "${constraint.text}"; ${listing([fallback, ...named])}. ` +
      'Install a terraform that satisfies it on the worker and add it to BUILDIT_TERRAFORM_BINS (or make it BUILDIT_TERRAFORM_BIN), or change the constraint in the stack settings',
  );
}
