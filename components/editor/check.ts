// Checks pipeline text in the browser with lib/pipeline itself (pure, bundled for the client): the same
// diagnostics the API returns on save, and the stages a DAG preview draws. No server round trip.
import { loadPipeline, plan, type Diagnostic, type PipelineSpec } from '../../lib/pipeline';

/** What a DAG preview draws: planned stages without a status. */
export interface PreviewStage {
  id: string;
  name: string;
  needs: string[];
}

export interface PipelineCheck {
  diagnostics: Diagnostic[];
  /** Null when the text has errors. */
  stages: PreviewStage[] | null;
}

export function checkPipelineText(text: string, file = 'buildit.kdl'): PipelineCheck {
  const { spec, diagnostics } = loadPipeline(text, file);
  return { diagnostics, stages: spec ? previewStages(spec) : null };
}

/**
 * Every stage of the pipeline with matrices expanded, whatever the trigger: the plan of a copy without
 * trigger filters or `when`, with a placeholder for each variable that has no default (only names and
 * needs are drawn, never values).
 */
export function previewStages(spec: PipelineSpec): PreviewStage[] {
  const everything: PipelineSpec = { ...spec, triggers: [], stages: spec.stages.map((stage) => ({ ...stage, when: [] })) };
  const variables = Object.fromEntries(spec.variables.filter((variable) => variable.default === null).map((variable) => [variable.name, 'preview']));
  try {
    const planned = plan(everything, { event: 'manual', runId: 'preview', runNumber: 1, variables });
    return planned.stages.map(({ id, name, needs }) => ({ id, name, needs }));
  } catch {
    // Planning can still refuse what validation lets through (e.g. a path that a variable makes invalid): draw the declared stages.
    return spec.stages.map((stage) => ({ id: stage.name, name: stage.name, needs: stage.needs.map((need) => need.name) }));
  }
}
