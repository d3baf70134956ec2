import { MAX_PUBLIC_NAME_LENGTH, MAX_SESSION_ID_LENGTH, PUBLIC_NAME_PATTERN, SESSION_ID_PATTERN } from '../live/heartbeat-schema.ts'
import { DEFAULT_SESSION } from '../live/sessions.ts'

/*
 * Range-checked readers for values read back from a state file. The file is
 * input like any other: it may be damaged, hand-edited, or written by another
 * version or under another clock. Each reader returns a value this service
 * could have written, or throws an Error saying where in the file the value is
 * and what is wrong with it. The message never repeats the value: it may be
 * huge, or someone's session id. Each version of the format builds its parser
 * from these.
 */

/** The ids and names the heartbeat route accepts (its body schema). */
const CLIENT_SESSION_ID = new RegExp(SESSION_ID_PATTERN)
const PUBLIC_NAME = new RegExp(PUBLIC_NAME_PATTERN, 'u')

/**
 * How far from now a saved time may be, either way. A deadline lies at most a
 * TTL (a day at most) ahead and a live period's start as far back as the period
 * lasts; ten years is beyond both, keeps every time a valid Date (which ends at
 * ±8.64e15 ms), and refuses a file written under a wildly wrong clock.
 */
export const MAX_TIME_DISTANCE_MS = 10 * 365.25 * 86_400_000

/** A wall-clock time in ms, within MAX_TIME_DISTANCE_MS of nowMs. */
export function readTime (value: unknown, where: string, nowMs: number): number {
  if (typeof value !== 'number' || !(Math.abs(value - nowMs) <= MAX_TIME_DISTANCE_MS)) {
    throw new Error(`${where} is not a time within ten years of now`)
  }
  return value
}

/** A session id a client could have sent, or the default session's name. */
export function readSessionId (value: unknown, where: string): string {
  if (typeof value !== 'string' || !(value === DEFAULT_SESSION || (value.length <= MAX_SESSION_ID_LENGTH && CLIENT_SESSION_ID.test(value)))) {
    throw new Error(`${where} is not a session id`)
  }
  return value
}

/** A list of at most maxLength items, each read by readItem, which is told where its item is. */
export function readList<Item> (value: unknown, where: string, maxLength: number, readItem: (item: unknown, where: string) => Item): Item[] {
  if (!Array.isArray(value)) throw new Error(`${where} is not a list`)
  if (value.length > maxLength) throw new Error(`${where} has ${value.length} entries, more than ${maxLength}`)
  return value.map((item, index) => readItem(item, `${where}[${index}]`))
}

/** A list of exactly `length` values, left to the caller to read one by one. */
export function readTuple (value: unknown, where: string, length: number): unknown[] {
  if (!Array.isArray(value) || value.length !== length) throw new Error(`${where} is not a list of ${length}`)
  return value
}

/** A whole number from 0 to max. */
export function readCount (value: unknown, where: string, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > max) throw new Error(`${where} is not a count up to ${max}`)
  return value as number
}

/** One of the given words. */
export function readOneOf<Word extends string> (value: unknown, where: string, words: readonly Word[]): Word {
  if (!(words as readonly unknown[]).includes(value)) throw new Error(`${where} is not one of ${words.join(', ')}`)
  return value as Word
}

/** A name the public may see, as the heartbeat route accepts it. */
export function readPublicName (value: unknown, where: string): string {
  if (typeof value !== 'string' || [...value].length > MAX_PUBLIC_NAME_LENGTH || !PUBLIC_NAME.test(value)) throw new Error(`${where} is not a public name`)
  return value
}

/** An object, whose fields the caller reads one by one; fields it does not read are ignored. */
export function readObject (value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} is not an object`)
  return value as Record<string, unknown>
}

/** undefined when absent, else what `read` makes of it. */
export function readOptional<Value> (value: unknown, where: string, read: (value: unknown, where: string) => Value): Value | undefined {
  return value === undefined ? undefined : read(value, where)
}
