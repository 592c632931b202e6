/**
 * Terraform's `-json` stream (one JSON message per line) as the readable lines of a run's log: each
 * message's own `@message`, and for diagnostics their detail too. Lines that are not JSON (terraform's
 * plain errors) pass through as they are.
 */
interface JsonMessage {
  '@message'?: unknown;
  '@level'?: unknown;
  type?: unknown;
  diagnostic?: { summary?: unknown; detail?: unknown };
}

export function readableLines(line: string): string[] {
  if (!line.startsWith('{')) return [line];
  let message: JsonMessage;
  try {
    message = JSON.parse(line) as JsonMessage;
  } catch {
    return [line];
  }
  // The version banner says nothing a reader needs.
  if (message.type === 'version') return [];
  const text = typeof message['@message'] === 'string' ? message['@message'] : line;
  const detail = message.type === 'diagnostic' && typeof message.diagnostic?.detail === 'string' ? message.diagnostic.detail : '';
  return [
    text,
    ...detail
      .split('\n')
      .filter((part) => part.trim() !== '')
      .map((part) => `  ${part}`),
  ];
}
