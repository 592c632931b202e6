/**
 * Pipeline language cost: parse + validate + plan of a generated pipeline of 1,000 planned stages (750
 * declared, every third with a two-value matrix: the largest run the language allows), as a ratio to
 * a bare KDL parse of the same text, without source locations (the library's default and cheapest
 * parse). Goal: under 3x. A second line shows the ratio to a parse that stores locations, which
 * costs the library 2–3x and which a valid pipeline no longer needs (see `loadPipeline`).
 * A third line splits the same stages over ten included files, whose stages extend a template and get
 * the files' defaults; its baseline is a bare parse of all eleven files.
 */
import { parse as parseKdl } from '@bgotink/kdl';
import { loadPipeline, plan } from '../lib/pipeline/index';
import { compare } from './support';

/** Declared stages; with the matrices below they plan 1,000, the cap of one run. */
const STAGES = 750;

/** A realistic mix: env, cache, matrix, needs fan-in, interpolation, services, when. */
export function generatePipeline(stages: number): string {
  const lines = [
    'pipeline "bench" {',
    '    on "push" branches="main" "release/*"',
    '    on "manual"',
    '    concurrency 8',
    '    timeout "2h"',
    '}',
    'env { NODE_ENV "test"; REGION "${var.region}"; }',
    'variable "region" default="eu-west-1"',
    'cache "npm" key="npm-${git.branch}" path="/root/.npm"',
  ];
  for (let i = 0; i < stages; i++) {
    const needs = i === 0 ? '' : ` needs="s${Math.floor(i / 2)}"`;
    lines.push(`stage "s${i}"${needs} {`);
    if (i > 2) lines.push(`    needs "s${i - 1}" "s${i - 2}"`);
    lines.push('    image "node:${matrix.node}"', '    cache "npm"');
    lines.push(`    run "npm ci && npm test -- --shard=${i} --sha=\${git.short_sha}"`);
    lines.push('    env { DATABASE_URL "postgres://db:5432/test"; TOKEN "${secrets.NPM_TOKEN}"; }');
    if (i % 10 === 0) lines.push('    service "db" image="postgres:16" { env { POSTGRES_PASSWORD "test"; } }');
    lines.push(i % 3 === 0 ? '    matrix { node "18" "20"; }' : '    matrix { node "20"; }');
    if (i % 7 === 0) lines.push('    when branch="main"');
    lines.push('    timeout "10m"', '    retry 1', '}');
  }
  return `${lines.join('\n')}\n`;
}

const text = generatePipeline(STAGES);
const trigger = { event: 'push' as const, branch: 'main', sha: '0123456789abcdef0123456789abcdef01234567', runId: 'bench', runNumber: 1 };

function candidate(): unknown {
  const { spec, diagnostics } = loadPipeline(text, 'bench.kdl');
  if (spec === null) throw new Error(`generated pipeline is invalid: ${diagnostics[0]?.message}`);
  return plan(spec, trigger);
}

const planned = candidate() as { stages: unknown[] };
console.log(`${STAGES} declared stages, ${text.length} bytes, ${planned.stages.length} planned stages`);
const result = await compare('pipeline parse+validate+plan vs KDL parse (no locations)', candidate, () => parseKdl(text), { runs: 30, warmup: 3, goal: 3 });
await compare('pipeline parse+validate+plan vs KDL parse (with locations)', candidate, () => parseKdl(text, { storeLocations: true }), { runs: 30, warmup: 3 });

/** The same stages over INCLUDED files (`include`), each with defaults, extending a template of the main file. */
const INCLUDED = 10;
function splitWithIncludes(): { main: string; files: Map<string, string> } {
  const [head, ...stageBlocks] = text.split(/\n(?=stage ")/);
  const files = new Map<string, string>();
  const perFile = Math.ceil(stageBlocks.length / INCLUDED);
  for (let f = 0; f < INCLUDED; f++) {
    const blocks = stageBlocks
      .slice(f * perFile, (f + 1) * perFile)
      .map((block) => block.replace(/^stage "([^"]+)"/, 'stage "$1" extends="node"').replace('    timeout "10m"\n    retry 1\n', ''));
    files.set(`ci/part-${f}.kdl`, `defaults { timeout "10m"; retry 1; }\n${blocks.join('\n')}\n`);
  }
  const includes = [...files.keys()].map((file) => `include "${file}"`).join('\n');
  return { main: `${head}\ntemplate "node" { cache "npm"; }\n${includes}\n`, files };
}
const split = splitWithIncludes();
const readInclude = (file: string) => split.files.get(file) ?? null;

function candidateWithIncludes(): unknown {
  const { spec, diagnostics } = loadPipeline(split.main, 'bench.kdl', { readInclude });
  if (spec === null) throw new Error(`generated pipeline with includes is invalid: ${diagnostics[0]?.message}`);
  return plan(spec, trigger);
}
const plannedWithIncludes = candidateWithIncludes() as { stages: unknown[] };
if (plannedWithIncludes.stages.length !== planned.stages.length) throw new Error('the pipeline with includes plans other stages');
const withIncludes = await compare(
  `pipeline with ${INCLUDED} includes, templates and defaults: parse+validate+plan vs KDL parse of the ${INCLUDED + 1} files (no locations)`,
  candidateWithIncludes,
  () => {
    parseKdl(split.main);
    for (const file of split.files.values()) parseKdl(file);
  },
  { runs: 30, warmup: 3, goal: 3 },
);
process.exitCode = result.ratio < 3 && withIncludes.ratio < 3 ? 0 : 1;
