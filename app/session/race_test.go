//go:build race

package session

// raceEnabled says the tests run under the race detector, where the larger corpora of the
// busy-key tests are cut down.
const raceEnabled = true
