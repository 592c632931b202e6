// How a LogChunk row stores its lines: `text` holds them, each ending with "\n", and `streams` one
// character per line saying where it came from. Written by the StoreSink, read by the API and the
// Socket.IO catch-up, which both hand out lines with their stream.
import type { LogStream } from '../events/types';

export const STREAM_CODES: Record<LogStream, string> = { stdout: 'o', stderr: 'e', system: 's' };
const STREAMS_BY_CODE: Record<string, LogStream> = { o: 'stdout', e: 'stderr', s: 'system' };

/** The lines of a stored chunk, with their streams (the inverse of what StoreSink writes). */
export function chunkLines(chunk: { text: string; streams: string }): Array<{ stream: LogStream; line: string }> {
  const lines = chunk.text.split('\n');
  lines.pop(); // every line ends with "\n": the last element is empty
  return lines.map((line, index) => ({ stream: STREAMS_BY_CODE[chunk.streams[index] ?? 'o'] ?? 'stdout', line }));
}

/** SQL: the number of a chunk's lines that came from the stage's own output (not BuildIt's system lines). */
export const OUTPUT_LINE_COUNT_SQL = `length(replace(streams, '${STREAM_CODES.system}', ''))`;
