package splunklog

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestHandlerLines(t *testing.T) {
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want string
	}{
		{"stats line", func(l *slog.Logger) {
			l.Info("oktainput stats", "stanza", "oktainput://prod", "events", 1000, "lag_seconds", 12.3, "caught_up", true)
		}, "INFO oktainput stats stanza=oktainput://prod events=1000 lag_seconds=12.300 caught_up=true\n"},
		{"quoted values", func(l *slog.Logger) {
			l.Warn("oktainput retry", "error", errors.New(`okta: 503 "busy"`), "empty", "")
		}, `WARN oktainput retry error="okta: 503 \"busy\"" empty=""` + "\n"},
		{"duration as seconds", func(l *slog.Logger) {
			l.Error("oktainput stopped", "throttled", 1500*time.Millisecond)
		}, "ERROR oktainput stopped throttled=1.500\n"},
		{"debug filtered", func(l *slog.Logger) { l.Debug("hidden") }, ""},
		{"newline in message folded", func(l *slog.Logger) { l.Info("a\nb") }, "INFO a b\n"},
		{"with attrs and group", func(l *slog.Logger) {
			l.With("stanza", "s").WithGroup("rate").Info("m", "limit", 50)
		}, "INFO m stanza=s rate.limit=50\n"},
		{"group attr", func(l *slog.Logger) {
			l.Info("m", slog.Group("rate", "limit", 50, "remaining", 3))
		}, "INFO m rate.limit=50 rate.remaining=3\n"},
		{"non-ascii quoted", func(l *slog.Logger) { l.Info("m", "city", "Zürich") }, "INFO m city=\"Zürich\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(slog.New(New(&buf, slog.LevelInfo)))
			assert.Equal(t, tt.want, buf.String())
		})
	}
}

func TestOneWritePerLine(t *testing.T) {
	var w countingWriter
	l := slog.New(New(&w, nil))
	l.Info("x", "a", strings.Repeat("y", 5000))
	assert.Equal(t, 1, w.writes)
}

type countingWriter struct{ writes int }

func (c *countingWriter) Write(p []byte) (int, error) { c.writes++; return len(p), nil }
