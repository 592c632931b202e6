'use client';
// The pipeline as a graph (React Flow, laid out by dagre: ./layout.ts): one node per stage, matrix stages
// grouped, edges from each need to the stage that needs it. Status colours follow `stages` as it changes
// (the layout only when the stages or their needs change). The graph is fitted to its box again whenever the
// box changes size (a window resized, a phone turned), not only when it first appears.
import '@xyflow/react/dist/style.css';
import './stage-graph.css';
import { Controls, ReactFlow, type Edge, type ReactFlowInstance } from '@xyflow/react';
import { useEffect, useMemo, useRef, useState } from 'react';
import { layoutGraph } from './layout';
import { MatrixNode, type MatrixFlowNode } from './matrix-node';
import { StageNode, type StageFlowNode } from './stage-node';
import type { DagStage } from './types';

/**
 * Props (a stable API: the run page and the pipeline editor's live preview use it):
 * - `stages`: the stages, from a plan (`{id, name, needs}`) or a run (`status` too).
 * - `selectedId`: the stage shown as selected (its log is open).
 * - `onSelect`: makes nodes buttons that call it with the stage id; without it nodes are not interactive.
 * - `label`: the accessible name of the graph (default "Pipeline graph").
 */
export interface StageGraphProps {
  stages: readonly DagStage[];
  selectedId?: string | null;
  onSelect?: (stageId: string) => void;
  label?: string;
  className?: string;
}

const NODE_TYPES = { stage: StageNode, matrix: MatrixNode };
const FIT_VIEW = { padding: 0.15 };

export function StageGraph({ stages, selectedId = null, onSelect, label = 'Pipeline graph', className = 'h-72' }: StageGraphProps) {
  const shape = stages.map((stage) => `${stage.id}\u0000${stage.name}\u0000${stage.needs.join(',')}`).join('\n');
  // Laid out again only when the shape changes (stages, names, needs), not on every status change.
  const layout = useMemo(() => layoutGraph(stages), [shape]);
  const dark = useDarkTheme();
  const { box, onInit } = useFitOnResize();

  const nodes = useMemo(() => {
    const statusOf = new Map(stages.map((stage) => [stage.id, stage.status]));
    const groups: MatrixFlowNode[] = layout.groups.map((group) => ({
      id: group.id,
      type: 'matrix',
      position: { x: group.x, y: group.y },
      style: { width: group.width, height: group.height },
      data: { name: group.name, size: layout.stages.filter((placed) => placed.groupId === group.id).length },
      selectable: false,
    }));
    const members: StageFlowNode[] = layout.stages.map(({ stage, x, y, groupId }) => ({
      id: stage.id,
      type: 'stage',
      position: { x, y },
      ...(groupId ? { parentId: groupId, extent: 'parent' as const } : {}),
      // React Flow lets clicks through nodes it has no handler for; these have their own button.
      ...(onSelect ? { style: { pointerEvents: 'all' as const } } : {}),
      data: { stage: { ...stage, status: statusOf.get(stage.id) }, selected: stage.id === selectedId, onSelect: onSelect ?? null },
    }));
    return [...groups, ...members];
  }, [layout, stages, selectedId, onSelect]);

  const edges = useMemo<Edge[]>(() => {
    const running = new Set(stages.filter((stage) => stage.status === 'running').map((stage) => stage.id));
    return layout.edges.map(({ source, target }) => ({ id: `${source}->${target}`, source, target, animated: running.has(target) }));
  }, [layout, stages]);

  return (
    <div ref={box} role="figure" aria-label={label} className={`${className} w-full rounded-lg border border-slate-200 dark:border-slate-700`}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        colorMode={dark ? 'dark' : 'light'}
        onInit={onInit}
        fitView
        fitViewOptions={FIT_VIEW}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        elementsSelectable={false}
        zoomOnScroll={false}
        preventScrolling={false}
      >
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

/** Follows the `dark` class on <html> (the theme toggle), which React Flow's own colours should match. */
function useDarkTheme(): boolean {
  const [dark, setDark] = useState(false);
  useEffect(() => {
    const root = document.documentElement;
    const read = () => setDark(root.classList.contains('dark'));
    read();
    const observer = new MutationObserver(read);
    observer.observe(root, { attributes: true, attributeFilter: ['class'] });
    return () => observer.disconnect();
  }, []);
  return dark;
}

/** Fits the graph to its box each time the box's size changes. */
function useFitOnResize() {
  const box = useRef<HTMLDivElement>(null);
  const [flow, setFlow] = useState<ReactFlowInstance | null>(null);
  useEffect(() => {
    const element = box.current;
    if (!flow || !element) return;
    const observer = new ResizeObserver(() => void flow.fitView(FIT_VIEW));
    observer.observe(element);
    return () => observer.disconnect();
  }, [flow]);
  return { box, onInit: setFlow };
}
