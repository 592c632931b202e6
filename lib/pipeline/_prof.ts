import { readFileSync } from 'node:fs';
import { parse } from '@bgotink/kdl';
import { DiagnosticCollector } from './diagnostics';
import { parsePipeline } from './parse';
const text = readFileSync('/tmp/gen.kdl', 'utf8');
const N = 10;
const t = (name: string, fn: () => unknown) => { for (let i = 0; i < 3; i++) fn(); const s = performance.now(); for (let i = 0; i < N; i++) fn(); console.log(name, ((performance.now() - s) / N).toFixed(1)); };
for (let k = 0; k < 3; k++) {
t('located', () => parse(text, { storeLocations: true }));
t('parsePipeline', () => parsePipeline(text, 'b', new DiagnosticCollector('b')));
}
