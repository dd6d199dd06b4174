package okta

import (
	"bytes"
	"testing"
)

// BenchmarkDecodePage decodes a full page of 1000 real events (the samples, repeated).
func BenchmarkDecodePage(b *testing.B) {
	var lines [][]byte
	for _, name := range []string{"elastic.ndjson", "okta-openapi-examples.ndjson", "panther-scenarios.ndjson"} {
		lines = append(lines, sampleLines(b, name)...)
	}
	page := make([][]byte, 0, 1000)
	for i := 0; len(page) < 1000; i++ {
		page = append(page, lines[i%len(lines)])
	}
	body := arrayOf(page)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		events, err := DecodePage(bytes.NewReader(body))
		if err != nil || len(events) != 1000 {
			b.Fatalf("%d events, %v", len(events), err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "events/s")
}
