/**
 * The stage graph (`needs` edges), shared by validation (cycles) and planning (levels).
 * Iterative on purpose: a generated pipeline with a very long chain must not overflow the stack.
 */

/** Edges by node index: `needs[i]` = indexes of the nodes node i needs. */
export type Edges = number[][];

/** Topological levels (0 = no needs), or null for nodes on or behind a cycle. */
export function topologicalLevels(needs: Edges): Array<number | null> {
  const count = needs.length;
  const levels: Array<number | null> = new Array(count).fill(null);
  const waitingOn = new Int32Array(count);
  const dependents: number[][] = Array.from({ length: count }, () => []);
  // A need listed twice counts once: `lastDependent[need]` is the node that last counted it.
  const lastDependent = new Int32Array(count).fill(-1);
  needs.forEach((list, node) => {
    for (const need of list) {
      if (lastDependent[need] === node) continue;
      lastDependent[need] = node;
      waitingOn[node]!++;
      dependents[need]!.push(node);
    }
  });
  const ready: number[] = [];
  for (let node = 0; node < count; node++) if (waitingOn[node] === 0) ready.push(node);
  for (const node of ready) levels[node] = 0;
  // `ready` grows while we walk it: a plain queue.
  for (let head = 0; head < ready.length; head++) {
    const node = ready[head]!;
    for (const dependent of dependents[node]!) {
      levels[dependent] = Math.max(levels[dependent] ?? 0, levels[node]! + 1);
      if (--waitingOn[dependent]! === 0) ready.push(dependent);
    }
  }
  for (let node = 0; node < count; node++) if (waitingOn[node]! > 0) levels[node] = null;
  return levels;
}

/**
 * Distinct cycles, each as node indexes in `needs` order, rotated to start at its lowest index so the
 * output does not depend on where the search began. One cycle per group of tangled nodes.
 */
export function findCycles(needs: Edges): number[][] {
  const levels = topologicalLevels(needs);
  const stuck = (node: number) => levels[node] === null;
  const visited = new Set<number>();
  const cycles: number[][] = [];
  for (let start = 0; start < needs.length; start++) {
    if (!stuck(start) || visited.has(start)) continue;
    const path: number[] = [];
    const onPath = new Map<number, number>();
    let node = start;
    // Every stuck node needs at least one stuck node, so this walk ends on a repeat.
    while (!visited.has(node)) {
      visited.add(node);
      onPath.set(node, path.length);
      path.push(node);
      node = needs[node]!.find(stuck)!;
    }
    const cycleStart = onPath.get(node);
    if (cycleStart !== undefined) cycles.push(rotateToLowest(path.slice(cycleStart)));
  }
  return cycles;
}

function rotateToLowest(cycle: number[]): number[] {
  const lowest = cycle.indexOf(cycle.reduce((a, b) => Math.min(a, b)));
  return [...cycle.slice(lowest), ...cycle.slice(0, lowest)];
}
