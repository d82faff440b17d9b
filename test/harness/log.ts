// Progress messages of the test harness, on stderr (the lint rules forbid console).

// Writes one harness message line to stderr.
export function note(message: string): void {
  process.stderr.write(`[harness] ${message}\n`);
}

// Milliseconds since `start` (a performance.now() value), rounded for messages.
export function since(start: number): number {
  return Math.round(performance.now() - start);
}
