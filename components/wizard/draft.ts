// What the new-pipeline wizard collects, step by step. Plain JSON: it is kept in sessionStorage so a reload
// does not lose it (secret values excepted: they never touch storage).

export interface StageDraft {
  /** Stable identity for React lists while stages are renamed and reordered. */
  key: string;
  name: string;
  image: string;
  /** One command per line: each becomes a `run`. */
  commands: string;
  /** Keys of the stages this one waits for (keys, so renaming a stage keeps them). */
  needs: string[];
}

export interface NamedValue {
  key: string;
  name: string;
  value: string;
}

export interface TriggersDraft {
  push: boolean;
  /** Branch globs, space-separated; empty = every branch. */
  pushBranches: string;
  pullRequest: boolean;
  tag: boolean;
  /** Tag globs, space-separated; empty = every tag. */
  tags: string;
  schedule: boolean;
  cron: string;
  manual: boolean;
}

export interface WizardDraft {
  step: number;
  name: string;
  tenantId: string;
  repository: string;
  branch: string;
  triggers: TriggersDraft;
  stages: StageDraft[];
  env: NamedValue[];
  /** Secret names; a value given here is stored in the tenant's secrets on creation (an empty one keeps the tenant's secret). */
  secrets: NamedValue[];
  /** The KDL as edited at the review step; null while it follows what the steps generate. */
  kdl: string | null;
  runNow: boolean;
}

export const STEPS = ['Name', 'Repository', 'Triggers', 'Stages', 'Variables and secrets', 'Review', 'Create'] as const;

export const newKey = (): string => Math.random().toString(36).slice(2, 10);

export function newStage(index: number): StageDraft {
  return { key: newKey(), name: index === 0 ? 'build' : `stage-${index + 1}`, image: '', commands: '', needs: [] };
}

export function emptyDraft(tenantId: string): WizardDraft {
  return {
    step: 0,
    name: '',
    tenantId,
    repository: '',
    branch: 'main',
    triggers: { push: true, pushBranches: 'main', pullRequest: false, tag: false, tags: '', schedule: false, cron: '0 3 * * *', manual: true },
    stages: [newStage(0)],
    env: [],
    secrets: [],
    kdl: null,
    runNow: true,
  };
}
