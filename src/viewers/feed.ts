import type { Snapshot } from '../live/public-state.ts'

/** State messages are a few hundred bytes at most: a viewer this far behind has stopped reading. */
export const MAX_VIEWER_BACKLOG_BYTES = 64 * 1024

/** What each viewer transport (WebSocket, Server-Sent Events) does with the store's changes. */
export interface ViewerTransport {
  broadcast (snapshot: Snapshot): void
  /** Traffic on idle connections, so proxies keep them, and dead viewers are found. */
  keepalive (): void
  /** Ends every viewer, and any that joins later, so shutdown does not wait on them. */
  closeAll (): Promise<void>
}

export interface ChangeSource {
  onChange (listener: (snapshot: Snapshot) => void): () => void
}

/**
 * Feeds a transport every change of the store and a keepalive every `keepaliveMs`; the function
 * returned stops both and closes the transport's viewers.
 */
export function feedViewers (store: ChangeSource, transport: ViewerTransport, keepaliveMs: number): () => Promise<void> {
  const unsubscribe = store.onChange((snapshot) => transport.broadcast(snapshot))
  const keepalive = setInterval(() => transport.keepalive(), keepaliveMs)
  return async () => {
    clearInterval(keepalive)
    unsubscribe()
    await transport.closeAll()
  }
}
