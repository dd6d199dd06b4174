package splunkd

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

var exportSeeds = []string{
	`{"preview":false,"offset":0,"result":{"uuid":"u1","tags":["a","b"]}}`,
	`{"preview":false,"offset":1,"lastrow":true,"result":{"uuid":"u2","n":3,"x":null}}`,
	`{"preview":true,"result":{}}`,
	`{"messages":[{"type":"FATAL","text":"Error in 'search' command"}]}`,
	`{"result":"not an object"}`,
	`[]`,
	`{"result":{"a":{"nested":[1,{"b":2}]}}}`,
}

func FuzzExportLine(f *testing.F) {
	for _, s := range exportSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		fields, l, err := parseExportLine(line)
		if err != nil {
			if fields != nil {
				t.Fatal("fields returned with an error")
			}
			return
		}
		if !json.Valid(line) {
			t.Fatalf("accepted invalid JSON %q", line)
		}
		if (fields == nil) != (l.Result == nil) || len(fields) != len(l.Result) {
			t.Fatalf("fields %v do not match result %v", fields, l.Result)
		}
	})
}

// FuzzExportStream feeds whole streams: no panic, results only from complete non-preview
// lines, and a stream without a final newline never passes as complete.
func FuzzExportStream(f *testing.F) {
	var all bytes.Buffer
	for _, s := range exportSeeds {
		all.WriteString(s + "\n")
		f.Add([]byte(s + "\n"))
	}
	f.Add(all.Bytes())
	f.Add([]byte("{\"result\":{\"uuid\":\"u1\"}}\n{\"lastrow\":true,\"result\":{\"u"))
	c := &Client{sessionKey: "k", log: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, stream []byte) {
		n := 0
		err := c.readExport(bytes.NewReader(stream), func(map[string]string) error { n++; return nil })
		trimmed := bytes.TrimRight(stream, " \t\r\n")
		if err == nil && len(trimmed) > 0 && !bytes.HasSuffix(stream, []byte("\n")) && bytes.Count(trimmed, []byte("\n")) == bytes.Count(stream, []byte("\n")) {
			t.Fatalf("stream cut inside its last line passed as complete: %q", stream)
		}
		if n > bytes.Count(stream, []byte("\n")) {
			t.Fatalf("%d results from %d lines", n, bytes.Count(stream, []byte("\n")))
		}
	})
}
