/** Adapters from lib/engine/workspace to the orchestrator's ArtifactStore (the orchestrator only sees the interface). */
import { collectArtifacts, restoreArtifacts } from '../workspace/artifacts';
import type { ArtifactStore } from './types';

export function workspaceArtifactStore(options: { workspace: string; artifactsDir: string }): ArtifactStore {
  return {
    async restore(stageIds) {
      await restoreArtifacts({ workspace: options.workspace, artifactsDir: options.artifactsDir, stageIds });
    },
    async collect(stageId, patterns) {
      await collectArtifacts({ workspace: options.workspace, artifactsDir: options.artifactsDir, stageId, patterns });
    },
  };
}
