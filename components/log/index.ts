export { LogStore, type LogChunkInput, type LogStreamName } from './log-store';
export { LogViewer, type LogViewerProps } from './log-viewer';
