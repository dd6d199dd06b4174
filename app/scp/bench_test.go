package scp

import (
	"bytes"
	"fmt"
	"testing"
)

// fieldsOnlyBody is a chunk as splunkd sends it for a command that asked for Okta's extracted
// fields: rows rows of 8 fields plus their __mv_ twins, one multivalue.
func fieldsOnlyBody(rows int) []byte {
	var w RowWriter
	_ = w.SetFields("_time", "eventType", "actor.id", "actor.alternateId", "client.ipAddress", "outcome.result", "authenticationContext.externalSessionId", "target{}.id")
	for i := range rows {
		w.Value(fmt.Sprintf("17172%05d.%03d", i, i%1000))
		w.Value("user.session.start")
		w.Value(fmt.Sprintf("00u%017d", i%1000))
		w.Value(fmt.Sprintf("user%05d@example.com", i%1000))
		w.Value("10.1.2.3")
		w.Value("SUCCESS")
		w.Value(fmt.Sprintf("102%022d", i))
		w.Values([]string{"0oa1", "0ua2"})
		_ = w.EndRow()
	}
	return w.Body()
}

func BenchmarkReadChunk(b *testing.B) {
	body := fieldsOnlyBody(50_000)
	var in bytes.Buffer
	cw := NewChunkWriter(&in)
	_ = cw.WriteChunk([]byte(`{"action":"execute","finished":false}`), body)
	data := in.Bytes()
	var r RowReader
	var vals [][]byte
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cr := NewChunkReader(bytes.NewReader(data))
		_, got, err := cr.Next()
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Reset(got); err != nil {
			b.Fatal(err)
		}
		for r.Next() {
			for i := range r.NumFields() {
				vals, _ = r.Values(i, vals[:0])
			}
		}
		if r.Err() != nil {
			b.Fatal(r.Err())
		}
	}
	b.ReportMetric(float64(b.N)*50_000/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkWriteRows(b *testing.B) {
	row := [][]string{{"1717200000.123"}, {"f1c2d3e4a5b6c7d8"}, {"signin"}, {"success"}, {""}, nil,
		{"00u00000000000000001"}, {"user00001@example.com"}, {"102abcdefghijklmnopqrstuv"}, {"10.1.2.3"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
		{""}, {""}, {"1717200000.123"}, {"1717200012.456"}, {"12.333"}, {"5"},
		{"user.session.start", "policy.evaluate_sign_on", "system.push.send_factor_verify_push", "user.authentication.auth_via_mfa", "user.authentication.verify"},
		{"OKTA_VERIFY_PUSH"}, {"1"}, {"1"}, {"0"}, nil, {"a", "b", "c", "d", "e"}}
	fields := make([]string, len(row))
	for i := range fields {
		fields[i] = fmt.Sprintf("f%d", i)
	}
	var w RowWriter
	var out bytes.Buffer
	cw := NewChunkWriter(&out)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		w.Reset()
		_ = w.SetFields(fields...)
		for range 1000 {
			if err := w.WriteRow(row); err != nil {
				b.Fatal(err)
			}
		}
		out.Reset()
		_ = cw.WriteChunk([]byte(`{"finished":false}`), w.Body())
		n += 1000
	}
	b.SetBytes(int64(out.Len()) / 1)
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}
