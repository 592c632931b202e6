// The box around the stages of one matrix, titled with the stage's name.
import type { Node, NodeProps } from '@xyflow/react';

export type MatrixFlowNode = Node<{ name: string; size: number }, 'matrix'>;

export function MatrixNode({ data }: NodeProps<MatrixFlowNode>) {
  return (
    <div
      role="group"
      aria-label={`${data.name}: matrix of ${data.size}`}
      className="h-full w-full rounded-lg border border-dashed border-slate-400 bg-slate-50/60 px-2 py-1 text-xs font-semibold text-slate-700 dark:border-slate-500 dark:bg-slate-900/60 dark:text-slate-200"
    >
      {data.name}
    </div>
  );
}
