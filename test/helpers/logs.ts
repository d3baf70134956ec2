export interface LogLine {
  msg?: string
  req?: { method?: string, url?: string, remoteAddress?: string }
  [field: string]: unknown
}

/** App options that keep every log line at `level` or above, parsed, in `lines`. */
export function captureLogs (level = 'info') {
  const lines: LogLine[] = []
  let waiters: Array<() => void> = []
  const write = (line: string) => {
    lines.push(JSON.parse(line) as LogLine)
    const waiting = waiters
    waiters = []
    for (const wake of waiting) wake()
  }
  /** Resolves once `count` lines have said `msg` (logged already, or to come). */
  const until = async (msg: string, count = 1): Promise<void> => {
    while (lines.filter((line) => line.msg === msg).length < count) await new Promise<void>((resolve) => waiters.push(resolve))
  }
  return { lines, until, env: { LOG_LEVEL: level }, logger: { level, stream: { write } } }
}

/** The client address each request log line names, for one URL. */
export function loggedClientAddresses (lines: LogLine[], url: string): Array<string | undefined> {
  return lines.filter((line) => line.msg === 'incoming request' && line.req?.url === url).map((line) => line.req?.remoteAddress)
}
