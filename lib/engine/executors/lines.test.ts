import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from './lines';

test('LineSplitter: chunks cut mid-line and mid-UTF-8, CRLF, and a last line without newline', () => {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  const euro = Buffer.from('€');
  splitter.write(Buffer.from('one\r\ntw'));
  splitter.write(Buffer.concat([Buffer.from('o '), euro.subarray(0, 1)]));
  splitter.write(Buffer.concat([euro.subarray(1), Buffer.from('\n\nlast')]));
  splitter.end();
  assert.deepEqual(lines, ['one', 'two €', '', 'last']);
});
