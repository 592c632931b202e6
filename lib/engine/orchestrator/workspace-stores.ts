/** The orchestrator's ArtifactStore and output files over the host storage (the orchestrator only sees the interfaces). */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { collectArtifacts, restoreArtifacts, stageArtifactDirName } from '../workspace/artifacts';
import type { HostStorage } from '../workspace/storage';
import type { ArtifactStore, OutputFileProvider } from './types';

export function storageArtifactStore(storage: HostStorage, runId: string): ArtifactStore {
  const dirs = () => ({ workspace: storage.workspaceDir(runId), artifactsDir: storage.artifactsDir(runId) });
  return {
    async restore(stageIds) {
      await restoreArtifacts({ ...dirs(), stageIds });
    },
    async collect(stageId, patterns) {
      await collectArtifacts({ ...dirs(), stageId, patterns });
    },
  };
}

const OUTPUTS_DIR = '.buildit/outputs';
/** Where the docker executor mounts the workspace. */
const CONTAINER_WORKSPACE = '/workspace';

/**
 * Output files (`$BUILDIT_OUTPUT`) in the run's workspace under `.buildit/outputs/`, where both
 * executors on the host storage see them: at `/workspace/...` in a container, at the workspace's own
 * path for `local`. One file per stage, emptied before the stage starts.
 */
export function storageOutputFiles(storage: HostStorage, runId: string): OutputFileProvider {
  return {
    async prepare({ stageId, executor }) {
      const relative = `${OUTPUTS_DIR}/${stageArtifactDirName(stageId)}`;
      const file = path.join(storage.workspaceDir(runId), relative);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, '');
      return {
        path: executor === 'local' ? file : path.posix.join(CONTAINER_WORKSPACE, relative),
        read: () => readFile(file, 'utf8'),
      };
    },
  };
}
