import { SESSION_STATUSES } from './public-state.ts'

/** What the laptop may say a session is doing: a verb from a fixed list, never a tool's input. */
export const TOOL_VERBS = ['editing', 'reading', 'running commands', 'browsing', 'delegating', 'planning', 'using tools'] as const

/** What the server's session ids are made of: Claude Code's ids, and the laptop's `<id>:<pid>`. */
export const SESSION_ID_PATTERN = '^[A-Za-z0-9._:-]+$'
export const MAX_SESSION_ID_LENGTH = 128

/**
 * A name shown to the public (a model, a project): 1 to 48 printable characters, none of them
 * control, format (bidi overrides, zero-width) or line-breaking characters, no space at either end.
 * Patterns are Unicode-aware (ajv compiles them with the u flag, as the state file's reader does).
 */
export const PUBLIC_NAME_PATTERN = '^[^\\p{C}\\p{Zl}\\p{Zp}\\s](?:[^\\p{C}\\p{Zl}\\p{Zp}]*[^\\p{C}\\p{Zl}\\p{Zp}\\s])?$'
export const MAX_PUBLIC_NAME_LENGTH = 48

const publicName = { type: 'string', minLength: 1, maxLength: MAX_PUBLIC_NAME_LENGTH, pattern: PUBLIC_NAME_PATTERN } as const

/** The body of POST /api/live/heartbeat and /stop; unknown fields are ignored, so daemons of any age work. */
export const sessionBodySchema = {
  type: 'object',
  properties: {
    session_id: { type: 'string', minLength: 1, maxLength: MAX_SESSION_ID_LENGTH, pattern: SESSION_ID_PATTERN },
    status: { type: 'string', enum: SESSION_STATUSES },
    activity: {
      type: 'object',
      properties: {
        model: publicName,
        project: publicName,
        tool: { type: 'string', enum: TOOL_VERBS }
      }
    }
  }
} as const
