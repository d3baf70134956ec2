/** "3 h 12 min", "45 min", "<1 min", "0 min": whole minutes, as the widget writes durations. */
export function durationText (seconds: number): string {
  if (seconds <= 0) return '0 min'
  const minutes = Math.floor(seconds / 60)
  if (minutes < 1) return '<1 min'
  const hours = Math.floor(minutes / 60)
  return hours === 0 ? `${minutes} min` : `${hours} h` + (minutes % 60 === 0 ? '' : ` ${minutes % 60} min`)
}
