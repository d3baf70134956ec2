import type { PublicState } from '../../src/public-state.js'

/** The public state with no session live: what every viewer hears first on a fresh server. */
export const OFFLINE: PublicState = { active: false, since: null, sessions: 0 }
