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
// passing for a chunk. Neither limit is allocated up front: memory follows the bytes that
// arrive (see readN and Body).
const (
	DefaultMaxMeta = 64 << 20
	DefaultMaxBody = 1 << 30
	maxHeaderLine  = 128
	firstRead      = 64 << 10 // what readN allocates before the first bytes arrive
)

const headerPrefix = "chunked 1.0,"

// ChunkReader reads chunks from splunkd: a header line, then exactly metadata_len bytes of
// JSON, then exactly body_len bytes of CSV. It knows lengths and bytes, not messages.
type ChunkReader struct {
	br      *bufio.Reader
	meta    []byte
	body    []byte
	cur     Body // the body of the chunk NextBody returned last
	MaxMeta int  // largest metadata accepted; DefaultMaxMeta when 0
	MaxBody int  // largest body accepted; DefaultMaxBody when 0
}

// NewChunkReader returns a reader over r with its own buffering.
func NewChunkReader(r io.Reader) *ChunkReader {
	return &ChunkReader{br: bufio.NewReaderSize(r, 1<<16)}
}

// Next reads one chunk whole. The returned slices are valid until the next call. It returns
// io.EOF when the stream ends cleanly before a header, and an error wrapping
// io.ErrUnexpectedEOF when it ends inside a chunk.
func (r *ChunkReader) Next() (meta, body []byte, err error) {
	meta, b, err := r.NextBody()
	if err != nil {
		return nil, nil, err
	}
	if r.body, err = readN(r.br, r.body[:0], b.n); err != nil {
		return nil, nil, fmt.Errorf("scp: reading %d body bytes: %w", b.n, err)
	}
	b.n = 0
	return meta, r.body, nil
}

// NextBody reads one chunk's header and metadata and returns its body as a reader, so that a
// caller can take the body's rows as they arrive instead of holding the whole body. The
// metadata is valid until the next call, the body until it is read or the next call, which
// first skips what is left of it. Errors are those of Next; a body that ends early reads as
// an error wrapping io.ErrUnexpectedEOF.
func (r *ChunkReader) NextBody() (meta []byte, body *Body, err error) {
	if err := r.cur.skip(); err != nil {
		return nil, nil, err
	}
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
	r.cur = Body{br: r.br, n: blen, size: blen}
	return r.meta, &r.cur, nil
}

// Body is the body of one chunk, read from the stream as it arrives.
type Body struct {
	br      *bufio.Reader
	n, size int // bytes left, bytes declared
	err     error
}

// Len returns the body length the chunk's header declared (which the peer may not keep to).
func (b *Body) Len() int { return b.size }

// Read reads from the body; io.EOF after exactly the declared length, an error wrapping
// io.ErrUnexpectedEOF when the stream ends before.
func (b *Body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.n == 0 {
		return 0, io.EOF
	}
	if len(p) > b.n {
		p = p[:b.n]
	}
	k, err := b.br.Read(p)
	b.n -= k
	switch {
	case err == io.EOF && b.n > 0:
		b.err = fmt.Errorf("scp: body ended after %d of its %d bytes: %w", b.size-b.n, b.size, io.ErrUnexpectedEOF)
	case err != nil && err != io.EOF:
		b.err = fmt.Errorf("scp: reading body: %w", err)
	}
	if k > 0 {
		return k, nil // the error, if any, comes with the next call
	}
	if b.err == nil && b.n > 0 {
		return 0, nil
	}
	return 0, b.err
}

// skip reads and drops what is left of the body.
func (b *Body) skip() error {
	if b.br == nil || b.n == 0 {
		return b.err
	}
	if _, err := b.br.Discard(b.n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("scp: skipping %d body bytes: %w", b.n, err)
	}
	b.n = 0
	return b.err
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

// readN appends exactly n bytes from br to dst. dst grows as the bytes arrive, doubling from
// firstRead, so that a header that declares far more bytes than the peer sends (1 GiB, then
// the stream ends) costs memory for what came, not for what was announced.
func readN(br *bufio.Reader, dst []byte, n int) ([]byte, error) {
	for len(dst) < n {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, min(n-len(dst), max(firstRead, len(dst))))
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
