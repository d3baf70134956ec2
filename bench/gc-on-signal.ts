/**
 * Preloaded into both servers under test (with --expose-gc) so the bench can
 * collect garbage before reading their memory, and compare live memory rather
 * than wherever the last collection happened to leave the heap.
 */
process.on('SIGUSR2', () => globalThis.gc?.())
