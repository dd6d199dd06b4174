package scp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Errors the chunk reader wraps, so a caller can tell a broken peer from a clean close.
var (
	// ErrHeader means a transport header was not `chunked 1.0,<metadata_len>,<body_len>\n`.
	ErrHeader = errors.New("scp: malformed chunk header")
	// ErrTooLarge means a chunk declared more bytes than the reader's limits allow.
	ErrTooLarge = errors.New("scp: chunk too large")
)

// Limits a ChunkReader applies unless told otherwise. The body limit is far above anything
// splunkd sends (50 000 rows of 2 KB events is about 100 MB) but stops a corrupt length from
// claiming the machine's memory.
const (
	DefaultMaxMeta = 64 << 20
	DefaultMaxBody = 1 << 30
	maxHeaderLine  = 128
	growStep       = 4 << 20
)

const headerPrefix = "chunked 1.0,"

// ChunkReader reads chunks from splunkd: a header line, then exactly metadata_len bytes of
// JSON, then exactly body_len bytes of CSV. It knows lengths and bytes, not messages.
type ChunkReader struct {
	br      *bufio.Reader
	meta    []byte
	body    []byte
	MaxMeta int // largest metadata accepted; DefaultMaxMeta when 0
	MaxBody int // largest body accepted; DefaultMaxBody when 0
}

// NewChunkReader returns a reader over r with its own buffering.
func NewChunkReader(r io.Reader) *ChunkReader {
	return &ChunkReader{br: bufio.NewReaderSize(r, 1<<16)}
}

// Next reads one chunk. The returned slices are valid until the next call. It returns io.EOF
// when the stream ends cleanly before a header, and an error wrapping io.ErrUnexpectedEOF
// when it ends inside a chunk.
func (r *ChunkReader) Next() (meta, body []byte, err error) {
	mlen, blen, err := r.header()
	if err != nil {
		return nil, nil, err
	}
	maxMeta, maxBody := r.MaxMeta, r.MaxBody
	if maxMeta <= 0 {
		maxMeta = DefaultMaxMeta
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	if mlen > maxMeta || blen > maxBody {
		return nil, nil, fmt.Errorf("%w: metadata %d bytes (limit %d), body %d bytes (limit %d)", ErrTooLarge, mlen, maxMeta, blen, maxBody)
	}
	if r.meta, err = readN(r.br, r.meta[:0], mlen); err != nil {
		return nil, nil, fmt.Errorf("scp: reading %d metadata bytes: %w", mlen, err)
	}
	if r.body, err = readN(r.br, r.body[:0], blen); err != nil {
		return nil, nil, fmt.Errorf("scp: reading %d body bytes: %w", blen, err)
	}
	return r.meta, r.body, nil
}

// header reads the transport header, skipping blank lines between chunks (the SDK's own test
// reader does; splunkd never sends them).
func (r *ChunkReader) header() (mlen, blen int, err error) {
	for {
		line, err := r.br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull) || len(line) > maxHeaderLine:
			return 0, 0, fmt.Errorf("%w: line longer than %d bytes starting %q", ErrHeader, maxHeaderLine, clip(line))
		case err == io.EOF && len(line) == 0:
			return 0, 0, io.EOF
		case err == io.EOF:
			return 0, 0, fmt.Errorf("scp: header %q: %w", clip(line), io.ErrUnexpectedEOF)
		case err != nil:
			return 0, 0, fmt.Errorf("scp: reading chunk header: %w", err)
		}
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			continue
		}
		mlen, blen, ok := parseHeader(line)
		if !ok {
			return 0, 0, fmt.Errorf("%w: %q (want \"chunked 1.0,<metadata_len>,<body_len>\\n\")", ErrHeader, clip(line))
		}
		return mlen, blen, nil
	}
}

// parseHeader accepts the SDK's tolerant grammar `chunked\s+1.0\s*,\s*(\d+)\s*,\s*(\d+)\s*\n`
// plus a CR before the LF; the writer emits only the canonical form.
func parseHeader(line []byte) (mlen, blen int, ok bool) {
	const word = "chunked"
	if len(line) < len(word) || string(line[:len(word)]) != word {
		return 0, 0, false
	}
	i := len(word)
	j := skipSpace(line, i)
	if j == i || !hasPrefixAt(line, j, "1.0") {
		return 0, 0, false
	}
	i = skipSpace(line, j+3)
	if i >= len(line) || line[i] != ',' {
		return 0, 0, false
	}
	mlen, i, ok = number(line, skipSpace(line, i+1))
	if !ok {
		return 0, 0, false
	}
	i = skipSpace(line, i)
	if i >= len(line) || line[i] != ',' {
		return 0, 0, false
	}
	blen, i, ok = number(line, skipSpace(line, i+1))
	if !ok {
		return 0, 0, false
	}
	return mlen, blen, skipSpace(line, i) == len(line)
}

// skipSpace skips the whitespace \s matches (LF ends the line and counts too).
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n' || b[i] == '\f' || b[i] == '\v') {
		i++
	}
	return i
}

func hasPrefixAt(b []byte, i int, p string) bool {
	return len(b)-i >= len(p) && string(b[i:i+len(p)]) == p
}

// number reads decimal digits; lengths beyond 1<<40 are refused rather than overflowing.
func number(b []byte, i int) (n, end int, ok bool) {
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int(b[i]-'0')
		if n > 1<<40 {
			return 0, i, false
		}
		i++
	}
	return n, i, i > start
}

// readN appends exactly n bytes from br to dst. Until growStep bytes have arrived it grows dst
// by what arrives, so a lying header cannot allocate much more than the peer sends; then it
// takes the declared length at its word and allocates it once, so a 100 MB chunk costs
// 100 MB, not the 200 MB that doubling would.
func readN(br *bufio.Reader, dst []byte, n int) ([]byte, error) {
	if len(dst) == 0 && cap(dst) >= growStep && cap(dst) < n {
		// A reused buffer that held big chunks but not one this big: the peer has shown that
		// its lengths are real, so the new one is allocated at once, with an eighth more
		// for the next chunks (splunkd's vary by a few bytes), instead of being filled, then
		// copied into a larger one while both take memory.
		dst = make([]byte, 0, n+n/8)
	}
	for len(dst) < n {
		want := n - len(dst)
		if free := cap(dst) - len(dst); free < want {
			grow := min(want, growStep)
			if len(dst) >= growStep {
				grow = want
			}
			dst = slices.Grow(dst, grow)
		}
		end := min(cap(dst), n)
		k, err := io.ReadFull(br, dst[len(dst):end])
		dst = dst[:len(dst)+k]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return dst, fmt.Errorf("got %d: %w", len(dst), err)
		}
	}
	return dst, nil
}

// clip shortens peer bytes quoted in an error.
func clip(b []byte) []byte {
	if len(b) > 60 {
		return b[:60]
	}
	return b
}

// ChunkWriter writes chunks in the canonical form `chunked 1.0,<m>,<b>\n<meta><body>` and
// flushes each one, because splunkd waits for exactly one reply per request.
type ChunkWriter struct {
	bw  *bufio.Writer
	hdr []byte
}

// NewChunkWriter returns a writer over w with its own buffering.
func NewChunkWriter(w io.Writer) *ChunkWriter {
	return &ChunkWriter{bw: bufio.NewWriterSize(w, 1<<16)}
}

// WriteChunk writes one chunk and flushes it.
func (w *ChunkWriter) WriteChunk(meta, body []byte) error {
	w.hdr = append(w.hdr[:0], headerPrefix...)
	w.hdr = strconv.AppendInt(w.hdr, int64(len(meta)), 10)
	w.hdr = append(w.hdr, ',')
	w.hdr = strconv.AppendInt(w.hdr, int64(len(body)), 10)
	w.hdr = append(w.hdr, '\n')
	for _, b := range [][]byte{w.hdr, meta, body} {
		if _, err := w.bw.Write(b); err != nil {
			return fmt.Errorf("scp: writing chunk: %w", err)
		}
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("scp: flushing chunk: %w", err)
	}
	return nil
}
