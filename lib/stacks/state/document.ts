/**
 * Terraform's state document, as far as BuildIt reads it: serial and lineage (versions), outputs (shown
 * with sensitive values hidden, copied to environments) and the resource addresses (shown without their
 * attributes, which may hold secrets).
 */
import { z } from 'zod';

const StateOutput = z.looseObject({ value: z.unknown(), sensitive: z.boolean().optional() });
const StateResource = z.looseObject({
  module: z.string().optional(),
  mode: z.string(),
  type: z.string(),
  name: z.string(),
  instances: z.array(z.unknown()).default([]),
});

export const StateDocument = z.looseObject({
  serial: z.number().int().nonnegative(),
  lineage: z.string().min(1),
  terraform_version: z.string().optional(),
  outputs: z.record(z.string(), StateOutput).default({}),
  resources: z.array(StateResource).default([]),
});
export type StateDocument = z.output<typeof StateDocument>;

export class StateDocumentError extends Error {
  override name = 'StateDocumentError';
}

export function parseStateDocument(text: string): StateDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new StateDocumentError(`the state is not valid JSON: ${(error as Error).message}`);
  }
  const result = StateDocument.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new StateDocumentError(`the state is not a Terraform state document: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unreadable'}`);
  }
  return result.data;
}

/** An output as BuildIt shows and keeps it: a sensitive one never carries its value. */
export type MaskedOutput = { sensitive: true } | { sensitive: false; value: unknown };

export function maskedOutputs(state: Pick<StateDocument, 'outputs'>): Record<string, MaskedOutput> {
  return Object.fromEntries(
    Object.entries(state.outputs).map(([name, output]) => [name, output.sensitive ? { sensitive: true } : { sensitive: false, value: output.value }]),
  );
}

export function resourceAddresses(state: Pick<StateDocument, 'resources'>): Array<{ address: string; mode: string; type: string; instances: number }> {
  return state.resources.map((resource) => {
    const local = `${resource.mode === 'data' ? 'data.' : ''}${resource.type}.${resource.name}`;
    return { address: resource.module ? `${resource.module}.${local}` : local, mode: resource.mode, type: resource.type, instances: resource.instances.length };
  });
}
