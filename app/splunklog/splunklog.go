// Package splunklog formats log/slog records the way splunkd reads a modular input's stderr:
// one line per record, the severity word first, then the message and key=value pairs.
//
// splunkd copies every stderr line of a modular input into splunkd.log (index=_internal,
// component ExecProcessor) and takes the first word as the level, so a line looks like
//
//	INFO oktainput stats stanza=oktainput://prod events=1000 lag_seconds=12.300
//
// and Splunk's automatic key=value extraction makes every pair a searchable field.
package splunklog

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Handler is a slog.Handler that writes splunkd-style key=value lines.
type Handler struct {
	mu     *sync.Mutex
	w      io.Writer
	level  slog.Leveler
	prefix []byte // pre-formatted attributes from WithAttrs
	group  string
}

// New returns a Handler writing to w records at or above level (nil means INFO).
func New(w io.Writer, level slog.Leveler) *Handler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &Handler{mu: &sync.Mutex{}, w: w, level: level}
}

// Enabled reports whether records at l are written.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle writes one line for r; a write error is returned to the caller, which slog ignores.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	buf := make([]byte, 0, 256)
	buf = append(buf, levelWord(r.Level)...)
	buf = append(buf, ' ')
	buf = appendMessage(buf, r.Message)
	buf = append(buf, h.prefix...)
	r.Attrs(func(a slog.Attr) bool {
		buf = appendAttr(buf, h.group, a)
		return true
	})
	buf = append(buf, '\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(buf)
	return err
}

// WithAttrs returns a Handler that writes attrs on every line after the record's message.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.prefix = append([]byte(nil), h.prefix...)
	for _, a := range attrs {
		h2.prefix = appendAttr(h2.prefix, h.group, a)
	}
	return &h2
}

// WithGroup returns a Handler that qualifies later keys with name and a dot.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	if h.group != "" {
		h2.group = h.group + "." + name
	} else {
		h2.group = name
	}
	return &h2
}

func levelWord(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARN"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

// appendMessage keeps the message bare (it is the line's fixed text) but folds line breaks,
// because splunkd would split a multi-line message into separate, level-less log lines.
func appendMessage(buf []byte, msg string) []byte {
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\n' || c == '\r' {
			c = ' '
		}
		buf = append(buf, c)
	}
	return buf
}

func appendAttr(buf []byte, group string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return buf
	}
	if a.Value.Kind() == slog.KindGroup {
		g := a.Key
		if group != "" && g != "" {
			g = group + "." + g
		} else if g == "" {
			g = group
		}
		for _, ga := range a.Value.Group() {
			buf = appendAttr(buf, g, ga)
		}
		return buf
	}
	buf = append(buf, ' ')
	if group != "" {
		buf = append(buf, group...)
		buf = append(buf, '.')
	}
	buf = append(buf, a.Key...)
	buf = append(buf, '=')
	return appendValue(buf, a.Value)
}

func appendValue(buf []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindInt64:
		return strconv.AppendInt(buf, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(buf, v.Uint64(), 10)
	case slog.KindFloat64:
		return strconv.AppendFloat(buf, v.Float64(), 'f', 3, 64)
	case slog.KindBool:
		return strconv.AppendBool(buf, v.Bool())
	case slog.KindDuration:
		// Seconds with milliseconds: a number that Splunk can chart, unlike "1m30s".
		return strconv.AppendFloat(buf, v.Duration().Seconds(), 'f', 3, 64)
	case slog.KindTime:
		return v.Time().UTC().AppendFormat(buf, time.RFC3339Nano)
	default:
		return appendString(buf, v.String())
	}
}

// appendString writes s bare when it is a single plain token, quoted otherwise, so that
// Splunk's key=value extraction takes the whole value.
func appendString(buf []byte, s string) []byte {
	if s != "" && plain(s) {
		return append(buf, s...)
	}
	return strconv.AppendQuote(buf, s)
}

func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
