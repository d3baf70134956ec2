import { once } from 'node:events'
import { Worker } from 'node:worker_threads'

/**
 * A crowd of viewers held in a worker thread (test/helpers/viewer-swarm.ts and
 * reconnecting-swarm.ts), so thousands of sockets do not share the test's event loop. It answers
 * once when connected, then once per command; `leave` closes every viewer.
 */
export class WorkerCrowd {
  readonly #worker: Worker

  constructor (script: URL, workerData: unknown) {
    this.#worker = new Worker(script, { workerData })
    this.#worker.on('error', (error) => { throw error })
  }

  /** The worker's next answer, to `command` if one is given. */
  async ask (command?: unknown): Promise<unknown> {
    const answer = once(this.#worker, 'message')
    if (command !== undefined) this.#worker.postMessage(command)
    return (await answer)[0]
  }

  async connected (): Promise<void> {
    await this.ask()
  }

  async leave (): Promise<void> {
    await this.ask('leave')
    await this.#worker.terminate()
  }
}
