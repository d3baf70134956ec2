/** App options that keep every log line at `level` or above, parsed, in `lines`. */
export function captureLogs (level = 'info') {
  const lines: Array<Record<string, unknown>> = []
  return {
    lines,
    env: { LOG_LEVEL: level },
    logger: { level, stream: { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } } }
  }
}
