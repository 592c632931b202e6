'use client';
// A stage in the graph: its name as text, its status as `data-status`, in words (the accessible description)
// and in colour. With `onSelect` it is a button (the run page opens the stage's log); without, plain text.
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { useId } from 'react';
import { statusClasses, statusLabel, statusMark } from './status';
import type { DagStage } from './types';

export type StageFlowNode = Node<{ stage: DagStage; selected: boolean; onSelect: ((id: string) => void) | null }, 'stage'>;

const HIDDEN_HANDLE = '!h-1 !w-1 !min-w-0 !border-0 !bg-transparent';

export function StageNode({ data }: NodeProps<StageFlowNode>) {
  const { stage, selected, onSelect } = data;
  const descriptionId = useId();
  const status = stage.status ?? 'planned';
  const visibleName = stage.id === stage.name ? stage.name : matrixValues(stage.id);
  // The name is the button (or text); the status beside it is its description. The button stretches over the
  // whole box (after:inset-0), so a click anywhere on the node selects it.
  const nameProps = { 'data-stage': stage.id, 'data-status': status, 'aria-label': stage.id, 'aria-describedby': descriptionId };
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} className={HIDDEN_HANDLE} />
      <div
        className={`relative h-12 w-[180px] rounded-md border-2 px-2 py-1 ${statusClasses(stage.status)} ${stage.status === 'running' ? 'animate-pulse' : ''} ${
          selected ? 'ring-2 ring-blue-500 ring-offset-2 dark:ring-offset-slate-900' : ''
        } focus-within:ring-2 focus-within:ring-blue-500`}
      >
        {onSelect ? (
          <button
            type="button"
            {...nameProps}
            aria-pressed={selected}
            onClick={() => onSelect(stage.id)}
            className="nopan block w-full cursor-pointer truncate text-left text-sm font-medium after:absolute after:inset-0 focus:outline-none"
          >
            {visibleName}
          </button>
        ) : (
          <span {...nameProps} role="group" className="block truncate text-sm font-medium">
            {visibleName}
          </span>
        )}
        <span id={descriptionId} className="block text-xs">
          <span aria-hidden="true">{statusMark(stage.status)} </span>
          {statusLabel(stage.status)}
        </span>
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} className={HIDDEN_HANDLE} />
    </>
  );
}

/** `test[node=18]` → `node=18`: inside its group, which shows the name. */
const matrixValues = (id: string) => /\[(.*)\]$/.exec(id)?.[1] ?? id;
