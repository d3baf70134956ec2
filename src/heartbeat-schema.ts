import { SESSION_STATUSES } from './public-state.js'

/** What the laptop may say a session is doing: a verb from a fixed list, never a tool's input. */
export const TOOL_VERBS = ['editing', 'reading', 'running commands', 'browsing', 'delegating', 'planning', 'using tools'] as const

/**
 * A name shown to the public (a model, a project): 1 to 48 printable characters, none of them
 * control, format (bidi overrides, zero-width) or line-breaking characters, no space at either end.
 */
const publicName = {
  type: 'string',
  minLength: 1,
  maxLength: 48,
  pattern: '^[^\\p{C}\\p{Zl}\\p{Zp}\\s](?:[^\\p{C}\\p{Zl}\\p{Zp}]*[^\\p{C}\\p{Zl}\\p{Zp}\\s])?$'
} as const

/** The body of POST /api/live/heartbeat and /stop; unknown fields are ignored, so daemons of any age work. */
export const sessionBodySchema = {
  type: 'object',
  properties: {
    session_id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' },
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
