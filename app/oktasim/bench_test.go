package oktasim

import "testing"

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(GenOptions{Users: 300, Events: 10000, Seed: 7})
	}
}
