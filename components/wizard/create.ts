// What "Create pipeline" does, in order: store the secret values typed in the wizard in the tenant's
// secrets, create the pipeline with exactly the reviewed KDL, and start a run if asked.
import { apiFetch, errorMessage } from '../app/api-client';
import type { Pipeline, Run } from '../pipelines/api';
import type { WizardDraft } from './draft';

export interface Created {
  pipeline: Pipeline;
  run: Run | null;
  /** Why the run asked for did not start (the pipeline exists all the same). */
  runError: string | null;
}

export async function createFromDraft(draft: WizardDraft, kdl: string): Promise<Created> {
  for (const secret of draft.secrets) {
    if (secret.name.trim() === '' || secret.value === '') continue;
    await apiFetch(`/api/v1/tenants/${draft.tenantId}/secrets/${encodeURIComponent(secret.name.trim())}`, { method: 'PUT', body: { value: secret.value } });
  }
  const pipeline = await apiFetch<Pipeline>(`/api/v1/tenants/${draft.tenantId}/pipelines`, {
    method: 'POST',
    body: { name: draft.name.trim(), repository: draft.repository.trim() || null, defaultBranch: draft.branch.trim() || 'main', config: kdl },
  });
  if (!draft.runNow) return { pipeline, run: null, runError: null };
  try {
    const run = await apiFetch<Run>(`/api/v1/pipelines/${pipeline.id}/runs`, { method: 'POST', body: { branch: pipeline.defaultBranch } });
    return { pipeline, run, runError: null };
  } catch (error) {
    return { pipeline, run: null, runError: errorMessage(error) };
  }
}
