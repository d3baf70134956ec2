export interface LogLine {
  msg?: string
  req?: { method?: string, url?: string, remoteAddress?: string }
  [field: string]: unknown
}

/** App options that keep every log line at `level` or above, parsed, in `lines`. */
export function captureLogs (level = 'info') {
  const lines: LogLine[] = []
  return {
    lines,
    env: { LOG_LEVEL: level },
    logger: { level, stream: { write: (line: string) => { lines.push(JSON.parse(line) as LogLine) } } }
  }
}

/** The client address each request log line names, for one URL. */
export function loggedClientAddresses (lines: LogLine[], url: string): Array<string | undefined> {
  return lines.filter((line) => line.msg === 'incoming request' && line.req?.url === url).map((line) => line.req?.remoteAddress)
}
