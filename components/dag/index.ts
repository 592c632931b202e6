// The pipeline graph, for the run page and the pipeline editor's live preview. API (kept stable):
// <StageGraph stages={[{ id, name, needs, status? }]} selectedId? onSelect? label? className? />
export { StageGraph, type StageGraphProps } from './stage-graph';
export type { DagStage } from './types';
export { statusClasses, statusLabel, statusMark, type StageStatus } from './status';
