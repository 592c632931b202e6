/** Helpers for orchestrator tests: plans built in-test and a sink that records events. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunEvent } from '../../lib/events/types';
import { formatDiagnostic, loadPipeline, plan } from '../../lib/pipeline';
import type { ExecutionPlan, PlannedStage, TriggerContext } from '../../lib/pipeline/plan-types';
import { runPlan } from '../../lib/engine/orchestrator/run-plan';
import type { RunPlanOptions } from '../../lib/engine/orchestrator/types';
import { FakeExecutor } from './fake-executor';

export function stage(id: string, fields: Partial<PlannedStage> = {}): PlannedStage {
  return {
    id,
    name: id,
    matrix: {},
    needs: [],
    level: 0,
    kind: 'run',
    skip: null,
    image: null,
    commands: ['true'],
    env: {},
    secretEnv: {},
    secrets: [],
    caches: [],
    artifacts: [],
    services: [],
    timeoutMs: null,
    retry: 0,
    allowFailure: false,
    approval: false,
    executor: null,
    build: null,
    deploy: null,
    stack: null,
    ...fields,
  };
}

/** Levels are computed from needs; stages must be given in a topological order. */
export function planOf(stages: PlannedStage[], fields: Partial<ExecutionPlan> = {}): ExecutionPlan {
  const level = new Map<string, number>();
  for (const s of stages) {
    s.level = s.needs.length === 0 ? 0 : 1 + Math.max(...s.needs.map((need) => level.get(need) ?? 0));
    level.set(s.id, s.level);
  }
  const levels: string[][] = [];
  for (const s of stages) (levels[s.level] ??= []).push(s.id);
  return { pipeline: 'test', triggered: true, notTriggeredReason: null, concurrency: null, timeoutMs: null, stages, levels, ...fields };
}

export class RecordingSink {
  readonly events: RunEvent[] = [];
  emit(event: RunEvent): void {
    this.events.push(event);
  }
  of<T extends RunEvent['type']>(type: T, stageId?: string): Array<Extract<RunEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type && (stageId === undefined || ('stage' in e && e.stage === stageId)));
  }
  /** Index of the first event matching; -1 if none. */
  indexOf(type: RunEvent['type'], stageId: string): number {
    return this.events.findIndex((e) => e.type === type && 'stage' in e && e.stage === stageId);
  }
  finished(stageId: string) {
    const [event] = this.of('stage.finished', stageId);
    if (!event) throw new Error(`no stage.finished for ${stageId}`);
    return event;
  }
  logLines(stageId: string): string[] {
    return this.of('stage.log', stageId).map((e) => e.line);
  }
  /** Most stages running at once, from the started/finished events. */
  maxRunning(): number {
    let running = 0;
    let max = 0;
    const active = new Set<string>();
    for (const e of this.events) {
      if (e.type === 'stage.started' && !active.has(e.stage)) active.add(e.stage);
      if (e.type === 'stage.finished') active.delete(e.stage);
      running = active.size;
      max = Math.max(max, running);
    }
    return max;
  }
}

/** Asserts `first` happened before `second` both by event order and by timestamps. */
export function happenedBefore(sink: RecordingSink, first: number, second: number): boolean {
  if (first < 0 || second < 0) return false;
  return first < second && Date.parse(sink.events[first]!.time) <= Date.parse(sink.events[second]!.time);
}

/** Plans a pipeline of testdata/ with the real planner (lib/pipeline), for a push to `branch`. */
export async function loadTestPlan(name: string, trigger: Partial<TriggerContext> = {}): Promise<ExecutionPlan> {
  const file = path.join(import.meta.dirname, '../../lib/engine/orchestrator/testdata', name);
  const { spec, diagnostics } = loadPipeline(await readFile(file, 'utf8'), file);
  if (!spec) throw new Error(`invalid test pipeline ${name}:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
  return plan(spec, { event: 'push', branch: 'main', sha: 'a'.repeat(40), runId: 'run-test', runNumber: 1, ...trigger });
}

/** runPlan of `plan` as run `run-1` on the FakeExecutor, 4 stages at a time unless `extra` says otherwise; its events recorded. */
export function runOnFake(plan: ExecutionPlan, extra: Partial<RunPlanOptions> = {}) {
  const sink = new RecordingSink();
  const result = runPlan({ plan, runId: 'run-1', executors: { fake: new FakeExecutor() }, defaultExecutor: 'fake', sink, concurrency: 4, ...extra });
  return { sink, result };
}
