/**
 * A run's plan as stored with it (PipelineRun.plan, JSON written by create-run.ts), read back by the
 * worker. Parsed, not cast: a plan written by another version of BuildIt, or damaged, is an error that
 * says what is wrong instead of a crash deep in the orchestrator.
 */
import { z } from 'zod';
import type { ExecutionPlan } from '../pipeline/plan-types';

const text = z.string();
const stringMap = z.record(z.string(), z.string());

const PlannedStageSchema = z.object({
  id: text,
  name: text,
  matrix: stringMap,
  needs: z.array(text),
  optionalNeeds: z.array(text).optional(),
  matrixLimits: z.object({ failFast: z.literal(true).optional(), maxParallel: z.number().int().positive().optional() }).optional(),
  level: z.number().int().min(0),
  kind: z.enum(['run', 'build', 'deploy', 'stack']),
  runOn: z.enum(['failure', 'always']).optional(),
  skip: z.object({ reason: text }).nullable(),
  outputWhen: z.array(z.array(z.object({ need: text, output: text, value: z.string() }))).optional(),
  image: text.nullable(),
  commands: z.array(text),
  env: stringMap,
  secretEnv: z.record(z.string(), z.array(z.union([z.object({ text }), z.object({ secret: text })]))),
  outputEnv: z.record(z.string(), z.array(z.union([z.object({ text }), z.object({ need: text, output: text })]))).optional(),
  outputs: z.array(text).optional(),
  secrets: z.array(text),
  caches: z.array(z.object({ name: text, key: text, paths: z.array(text) })),
  artifacts: z.array(text),
  services: z.array(z.object({ name: text, image: text, env: stringMap })),
  timeoutMs: z.number().nullable(),
  retry: z.number().int().min(0),
  allowFailure: z.boolean(),
  approval: z.boolean(),
  executor: z.enum(['local', 'docker', 'kubernetes']).nullable(),
  lock: text.min(1).optional(),
  build: z.object({ context: text, dockerfile: text, tag: text }).nullable(),
  deploy: z.object({ environment: text, service: text }).nullable(),
  stack: z.object({ name: text, action: text }).nullable(),
});

const ExecutionPlanSchema = z.object({
  pipeline: text,
  group: z.object({ name: text, cancelInProgress: z.boolean() }).optional(),
  triggered: z.boolean(),
  notTriggeredReason: text.nullable(),
  concurrency: z.number().int().positive().nullable(),
  timeoutMs: z.number().nullable(),
  stages: z.array(PlannedStageSchema),
  levels: z.array(z.array(text)),
});

export function parseStoredPlan(runId: string, stored: unknown): ExecutionPlan {
  const parsed = ExecutionPlanSchema.safeParse(stored);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`run ${runId} has no valid plan (${issue.path.join('.') || 'plan'}: ${issue.message}); re-run the pipeline to plan it again`);
  }
  return parsed.data satisfies ExecutionPlan;
}
