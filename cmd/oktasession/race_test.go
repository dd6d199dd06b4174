//go:build race

package main

// raceEnabled says the tests run under the race detector, which makes the large corpora of the
// interleaving harness too slow to run there in full.
const raceEnabled = true
