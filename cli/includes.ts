/**
 * `include` in the CLI: the repository root is the pipeline file's directory (where `buildit.kdl`
 * lives in a repository), so `include "ci/common.kdl"` next to `./buildit.kdl` reads `./ci/common.kdl`,
 * as the server reads it from the repository at the run's commit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadOptions } from '../lib/pipeline';

export function includeOptions(file: string): Pick<LoadOptions, 'readInclude' | 'pathInRepository'> {
  const root = path.dirname(path.resolve(file));
  return {
    pathInRepository: path.basename(file),
    readInclude: (relative) => {
      try {
        return readFileSync(path.join(root, relative));
      } catch {
        return null;
      }
    },
  };
}
