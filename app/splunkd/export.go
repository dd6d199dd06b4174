package splunkd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxExportLine bounds one result line; an event's _raw can be large, a runaway line is not.
const maxExportLine = 8 << 20

// exportLine is one line of search/jobs/export with output_mode=json.
type exportLine struct {
	Preview  bool                       `json:"preview"`
	LastRow  bool                       `json:"lastrow"`
	Result   map[string]json.RawMessage `json:"result"`
	Messages []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"messages"`
}

// parseExportLine decodes one line into its fields (multivalue fields joined by "\n", as
// Splunk writes them in CSV) and its messages. A line with neither yields nil fields.
func parseExportLine(line []byte) (fields map[string]string, l exportLine, err error) {
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, l, err
	}
	if l.Result == nil {
		return nil, l, nil
	}
	fields = make(map[string]string, len(l.Result))
	for k, raw := range l.Result {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			fields[k] = s
			continue
		}
		var mv []string
		if json.Unmarshal(raw, &mv) == nil {
			fields[k] = strings.Join(mv, "\n")
			continue
		}
		fields[k] = string(bytes.TrimSpace(raw))
	}
	return fields, l, nil
}

// Export runs search over [earliest, latest) (zero times leave that bound to the search) as
// a streaming export and calls fn for each final result, in order. A stream that ends inside
// a line, or after results without the last-row marker, is an error: the caller must not
// mistake a partial list for a complete one.
func (c *Client) Export(ctx context.Context, search string, earliest, latest time.Time, fn func(fields map[string]string) error) error {
	s := strings.TrimSpace(search)
	if s == "" {
		return errors.New("splunkd export: empty search")
	}
	if !strings.HasPrefix(s, "search ") && !strings.HasPrefix(s, "|") {
		s = "search " + s
	}
	form := url.Values{"search": {s}}
	if !earliest.IsZero() {
		form.Set("earliest_time", epoch(earliest))
	}
	if !latest.IsZero() {
		form.Set("latest_time", epoch(latest))
	}
	const rest = "search/v2/jobs/export"
	resp, cancel, err := c.do(ctx, request{
		method: http.MethodPost, path: c.nsPath(rest), op: "POST " + rest, form: form, stream: true,
	})
	if err != nil {
		return fmt.Errorf("export search: %w", err)
	}
	defer cancel()
	defer resp.Body.Close()
	if err := c.readExport(resp.Body, fn); err != nil {
		return fmt.Errorf("export search: %w", err)
	}
	return nil
}

func epoch(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// readExport frames the stream into lines and the lines into results.
func (c *Client) readExport(r io.Reader, fn func(map[string]string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		n       int
		lastRow bool
		line    []byte
	)
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(line) > maxExportLine {
				return fmt.Errorf("result %d: line longer than %d bytes", n+1, maxExportLine)
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("stream broken after %d results: %w", n, err)
		}
		eof := errors.Is(err, io.EOF)
		if t := bytes.Trim(line, " \t\r\n"); len(t) > 0 { // JSON white space only: anything else is content
			if eof {
				// Every line splunkd writes ends in a newline; one without it was cut off.
				return fmt.Errorf("stream cut off inside result %d: %w", n+1, io.ErrUnexpectedEOF)
			}
			fields, l, perr := parseExportLine(t)
			if perr != nil {
				return fmt.Errorf("result %d: %w", n+1, perr)
			}
			for _, m := range l.Messages {
				switch m.Type {
				case "FATAL", "ERROR":
					return fmt.Errorf("splunkd: %s: %s", m.Type, c.scrub(m.Text, nil))
				default:
					c.log.Debug("splunkd export message", "type", m.Type, "text", c.scrub(m.Text, nil))
				}
			}
			if fields != nil && !l.Preview {
				if lastRow {
					return fmt.Errorf("result %d after the last row", n+1)
				}
				n++
				lastRow = l.LastRow
				if err := fn(fields); err != nil {
					return err
				}
			}
		}
		line = line[:0]
		if eof {
			break
		}
	}
	if n > 0 && !lastRow {
		return fmt.Errorf("stream ended after %d results without the last row: %w", n, io.ErrUnexpectedEOF)
	}
	return nil
}
