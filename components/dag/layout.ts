// Where the nodes of a pipeline's graph go: dagre ranks the stages left to right by their needs. The stages of
// one matrix (planned ids `test[node=18]`, `test[node=20]` of the stage "test") are laid out as one box,
// their group, with the members stacked inside it.
import dagre from '@dagrejs/dagre';
import type { DagStage } from './types';

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 48;
const GROUP_PADDING = 10;
const GROUP_HEADER = 26;
const GROUP_GAP = 8;

export interface PlacedGroup {
  id: string;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedStage {
  stage: DagStage;
  /** Top-left corner: absolute, or relative to its group. */
  x: number;
  y: number;
  groupId: string | null;
}

export interface GraphLayout {
  groups: PlacedGroup[];
  stages: PlacedStage[];
  edges: Array<{ source: string; target: string }>;
}

const groupIdOf = (name: string) => `matrix:${name}`;

/** A matrix stage's planned id differs from its name; such stages of one name form a group. */
function unitsOf(stages: readonly DagStage[]): Map<string, DagStage[]> {
  const matrixNames = new Set(stages.filter((stage) => stage.id !== stage.name).map((stage) => stage.name));
  const units = new Map<string, DagStage[]>();
  for (const stage of stages) {
    const unit = matrixNames.has(stage.name) ? groupIdOf(stage.name) : stage.id;
    units.set(unit, [...(units.get(unit) ?? []), stage]);
  }
  return units;
}

export function layoutGraph(stages: readonly DagStage[]): GraphLayout {
  const units = unitsOf(stages);
  const unitOf = new Map<string, string>();
  for (const [unit, members] of units) for (const member of members) unitOf.set(member.id, unit);

  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 56, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const [unit, members] of units) {
    const grouped = unit.startsWith('matrix:');
    graph.setNode(unit, {
      width: grouped ? NODE_WIDTH + 2 * GROUP_PADDING : NODE_WIDTH,
      height: grouped ? GROUP_HEADER + members.length * (NODE_HEIGHT + GROUP_GAP) - GROUP_GAP + GROUP_PADDING : NODE_HEIGHT,
    });
  }
  const edges: GraphLayout['edges'] = [];
  for (const stage of stages) {
    for (const need of stage.needs) {
      const from = unitOf.get(need);
      const to = unitOf.get(stage.id)!;
      if (from === undefined) continue; // a need outside this run (an optional need left out)
      edges.push({ source: need, target: stage.id });
      if (from !== to) graph.setEdge(from, to);
    }
  }
  dagre.layout(graph);

  const groups: PlacedGroup[] = [];
  const placed: PlacedStage[] = [];
  for (const [unit, members] of units) {
    const node = graph.node(unit);
    const x = node.x - node.width / 2;
    const y = node.y - node.height / 2;
    if (!unit.startsWith('matrix:')) {
      placed.push({ stage: members[0]!, x, y, groupId: null });
      continue;
    }
    groups.push({ id: unit, name: members[0]!.name, x, y, width: node.width, height: node.height });
    members.forEach((stage, index) => placed.push({ stage, x: GROUP_PADDING, y: GROUP_HEADER + index * (NODE_HEIGHT + GROUP_GAP), groupId: unit }));
  }
  return { groups, stages: placed, edges };
}
