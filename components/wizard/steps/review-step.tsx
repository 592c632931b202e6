// Review: the generated KDL, editable, with live diagnostics and the graph. What this editor shows is what
// "Create pipeline" sends.
import { useId } from 'react';
import { DiagnosticsList } from '../../editor/diagnostics-list';
import { KdlEditor } from '../../editor/kdl-editor';
import { usePipelineCheck } from '../../editor/use-pipeline-check';
import { DagPreview } from '../../pipelines/dag-preview';
import { BUTTON } from '../../pipelines/styles';
import { generateKdl } from '../kdl';
import type { StepProps } from './step-props';

export function ReviewStep({ draft, update }: StepProps) {
  const diagnosticsId = useId();
  const generated = generateKdl(draft);
  const text = draft.kdl ?? generated;
  const check = usePipelineCheck(text);
  return (
    <div className="space-y-3">
      <p className="text-sm text-slate-700 dark:text-slate-300">
        This is the pipeline that will be created. Edit it here if you like: problems are listed as you type.
      </p>
      {draft.kdl !== null && draft.kdl !== generated ? (
        <div className="flex flex-wrap items-center gap-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
          <span>You edited the KDL: changes made in earlier steps are not in it.</span>
          <button type="button" onClick={() => update({ kdl: null })} className={BUTTON.secondary}>
            Regenerate from the steps
          </button>
        </div>
      ) : null}
      <div className="grid gap-6 lg:grid-cols-2">
        <div className="min-w-0">
          <KdlEditor value={text} onChange={(kdl) => update({ kdl })} checked={check} label="Pipeline KDL" describedBy={diagnosticsId} />
          <DiagnosticsList id={diagnosticsId} diagnostics={check.diagnostics} />
        </div>
        <DagPreview stages={check.stages} />
      </div>
    </div>
  );
}
