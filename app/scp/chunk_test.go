package scp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		line       string
		mlen, blen int
		ok         bool
	}{
		{"chunked 1.0,17,0\n", 17, 0, true},
		{"chunked 1.0,36,16109782\n", 36, 16109782, true},
		{"chunked 1.0,0,0\n", 0, 0, true},
		{"chunked 1.0,17,34\r\n", 17, 34, true},            // CR before LF (line ends converted)
		{"chunked  1.0 , 17 , 34 \n", 17, 34, true},        // the SDK's tolerant grammar
		{"chunked\t1.0,1,2\n", 1, 2, true},                 //
		{"chunked1.0,1,2\n", 0, 0, false},                  // no space after chunked
		{"chunked 2.0,1,2\n", 0, 0, false},                 // other version
		{"chunked 1.0,-1,2\n", 0, 0, false},                // sign
		{"chunked 1.0,1\n", 0, 0, false},                   // one length
		{"chunked 1.0,1,2,3\n", 0, 0, false},               // three lengths
		{"chunked 1.0,1,x\n", 0, 0, false},                 // not a number
		{"{\"action\":\"getinfo\"}\n", 0, 0, false},        // JSON without header
		{"chunked 1.0,99999999999999999,1\n", 0, 0, false}, // overflow
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.line), func(t *testing.T) {
			m, b, ok := parseHeader([]byte(tt.line))
			assert.Equal(t, tt.ok, ok)
			if tt.ok {
				assert.Equal(t, tt.mlen, m)
				assert.Equal(t, tt.blen, b)
			}
		})
	}
}

type chunk struct{ meta, body string }

func readAll(t testing.TB, r io.Reader) ([]chunk, error) {
	t.Helper()
	cr := NewChunkReader(r)
	var out []chunk
	for {
		m, b, err := cr.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out = append(out, chunk{string(m), string(b)})
	}
}

func TestChunkReader(t *testing.T) {
	big := strings.Repeat("a,b\r\n", 2_000_000) // 10 MB body, several growth steps
	tests := []struct {
		name    string
		in      string
		want    []chunk
		wantErr error
	}{
		{name: "empty stream", in: ""},
		{name: "getinfo", in: `chunked 1.0,20,0` + "\n" + `{"action":"getinfo"}`, want: []chunk{{`{"action":"getinfo"}`, ""}}},
		{name: "two chunks", in: "chunked 1.0,2,3\n{}a,bchunked 1.0,2,0\n{}", want: []chunk{{"{}", "a,b"}, {"{}", ""}}},
		{name: "blank lines between chunks", in: "chunked 1.0,2,0\n{}\n\r\nchunked 1.0,2,0\n{}\n", want: []chunk{{"{}", ""}, {"{}", ""}}},
		{name: "header only", in: "chunked 1.0,0,0\n", want: []chunk{{"", ""}}},
		{name: "big body", in: "chunked 1.0,2," + itoa(len(big)) + "\n{}" + big, want: []chunk{{"{}", big}}},
		{name: "truncated body", in: "chunked 1.0,2,150\n{}x", want: nil, wantErr: io.ErrUnexpectedEOF},
		{name: "truncated metadata", in: "chunked 1.0,20,0\n{}", wantErr: io.ErrUnexpectedEOF},
		{name: "truncated header", in: "chunked 1.0,2", wantErr: io.ErrUnexpectedEOF},
		{name: "garbage", in: "hello world\n", wantErr: ErrHeader},
		{name: "debug print before chunk", in: "debug: here\nchunked 1.0,2,0\n{}", wantErr: ErrHeader},
		{name: "long line", in: strings.Repeat("x", 70000) + "\n", wantErr: ErrHeader},
		{name: "too large", in: "chunked 1.0,2,3000000000\n{}", wantErr: ErrTooLarge},
	}
	for _, tt := range tests {
		for _, wrap := range []struct {
			name string
			fn   func(io.Reader) io.Reader
		}{{"plain", func(r io.Reader) io.Reader { return r }}, {"onebyte", iotest.OneByteReader}, {"half", iotest.HalfReader}} {
			if tt.name == "big body" && wrap.name == "onebyte" {
				continue // 10 M reads of one byte prove nothing HalfReader does not
			}
			t.Run(tt.name+"/"+wrap.name, func(t *testing.T) {
				got, err := readAll(t, wrap.fn(strings.NewReader(tt.in)))
				if tt.wantErr != nil {
					require.Error(t, err)
					assert.ErrorIs(t, err, tt.wantErr)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, len(tt.want), len(got))
				for i := range min(len(got), len(tt.want)) {
					assert.Equal(t, tt.want[i].meta, got[i].meta)
					assert.True(t, tt.want[i].body == got[i].body, "body %d differs (len %d, want %d)", i, len(got[i].body), len(tt.want[i].body))
				}
			})
		}
	}
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestChunkReaderLimits(t *testing.T) {
	cr := NewChunkReader(strings.NewReader("chunked 1.0,10,0\n{\"a\":123}"))
	cr.MaxMeta = 5
	_, _, err := cr.Next()
	assert.ErrorIs(t, err, ErrTooLarge)
}

func TestChunkReaderReusesBuffers(t *testing.T) {
	var in bytes.Buffer
	cw := NewChunkWriter(&in)
	for range 3 {
		require.NoError(t, cw.WriteChunk([]byte(`{"finished":false}`), bytes.Repeat([]byte("x"), 1000)))
	}
	cr := NewChunkReader(&in)
	_, b1, err := cr.Next()
	require.NoError(t, err)
	p := &b1[0]
	_, b2, err := cr.Next()
	require.NoError(t, err)
	assert.Same(t, p, &b2[0], "the body buffer is reused")
}

func TestChunkWriter(t *testing.T) {
	var out bytes.Buffer
	cw := NewChunkWriter(&out)
	require.NoError(t, cw.WriteChunk([]byte(`{"type":"reporting"}`), nil))
	require.NoError(t, cw.WriteChunk([]byte(`{"finished":true}`), []byte("a,__mv_a\r\n1,\r\n")))
	assert.Equal(t, "chunked 1.0,20,0\n{\"type\":\"reporting\"}chunked 1.0,17,14\n{\"finished\":true}a,__mv_a\r\n1,\r\n", out.String())
	// Lengths are bytes, not characters.
	out.Reset()
	require.NoError(t, cw.WriteChunk([]byte(`{}`), []byte("é\r\n")))
	assert.Equal(t, "chunked 1.0,2,4\n{}é\r\n", out.String())
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestChunkWriterError(t *testing.T) {
	err := NewChunkWriter(failWriter{}).WriteChunk([]byte("{}"), nil)
	assert.ErrorContains(t, err, "broken pipe")
}

func FuzzChunkReader(f *testing.F) {
	f.Add([]byte("chunked 1.0,2,3\n{}a,b"))
	f.Add([]byte("chunked 1.0,2,0\n{}\nchunked 1.0,0,0\n"))
	f.Add([]byte("chunked  1.0 , 2 , 1 \r\n{}x"))
	f.Add([]byte("chunked 1.0,2,150\n{}x"))
	f.Add([]byte("chunked 1.0,99999999999,0\n"))
	f.Add([]byte("garbage\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		cr := NewChunkReader(bytes.NewReader(in))
		cr.MaxBody = 1 << 20
		var out bytes.Buffer
		cw := NewChunkWriter(&out)
		var chunks []chunk
		for {
			m, b, err := cr.Next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrHeader) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				break
			}
			chunks = append(chunks, chunk{string(m), string(b)})
			if err := cw.WriteChunk(m, b); err != nil {
				t.Fatal(err)
			}
		}
		// What was read, written canonically, reads back the same.
		again, err := readAll(t, &out)
		if err != nil {
			t.Fatalf("re-reading canonical chunks: %v", err)
		}
		if len(again) != len(chunks) {
			t.Fatalf("round trip: %d chunks, want %d", len(again), len(chunks))
		}
		for i := range chunks {
			if again[i] != chunks[i] {
				t.Fatalf("round trip: chunk %d differs", i)
			}
		}
	})
}

// TestReadNGrowth reads bodies of growing size through one buffer: it grows as bytes arrive
// and is reused by the bodies that fit.
func TestReadNGrowth(t *testing.T) {
	sizes := []int{100, firstRead + 10, firstRead + 20, 5*firstRead + 1, 2 * firstRead}
	var src bytes.Buffer
	for i, n := range sizes {
		src.Write(bytes.Repeat([]byte{byte('a' + i)}, n))
	}
	br := bufio.NewReaderSize(&src, 1<<16)
	var buf []byte
	caps, most := []int{}, 0
	for i, n := range sizes {
		most = max(most, n)
		var err error
		buf, err = readN(br, buf[:0], n)
		require.NoError(t, err)
		require.Len(t, buf, n)
		require.Equal(t, bytes.Repeat([]byte{byte('a' + i)}, n), buf, "body %d", i)
		caps = append(caps, cap(buf))
		assert.LessOrEqual(t, cap(buf), 2*most+firstRead, "body %d: memory follows the bytes", i)
	}
	assert.Equal(t, caps[1], caps[2], "a body that fits reuses the buffer")
	assert.Equal(t, caps[3], caps[4], "a body that fits reuses the buffer")

	// A lying length still fails cleanly at the end of the stream.
	_, err := readN(bufio.NewReader(strings.NewReader("abc")), buf[:0], 10*firstRead)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// lyingChunk is a chunk whose header declares a 1 GiB body of which only 5 MiB of CSV rows
// arrive before the stream ends.
func lyingChunk() []byte {
	const declared = 1<<30 - 1
	in := []byte("chunked 1.0,37," + itoa(declared) + "\n" + `{"action":"execute","finished":false}` + "a,b\n")
	row := []byte("1234567890,abcdefghij\n")
	for len(in) < 5<<20 {
		in = append(in, row...)
	}
	return in
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLyingLengthAllocatesWhatArrives: a header that declares 1 GiB and a stream that ends
// after 5 MiB must cost memory for the 5 MiB, read whole (Next) or as rows (NextBody), and
// end in an error that says the body was cut short.
func TestLyingLengthAllocatesWhatArrives(t *testing.T) {
	in := lyingChunk()
	t.Run("Next", func(t *testing.T) {
		var err error
		n := allocated(func() { _, _, err = NewChunkReader(bytes.NewReader(in)).Next() })
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Less(t, n, uint64(32<<20), "allocated %d MiB", n>>20)
	})
	t.Run("rows", func(t *testing.T) {
		var err error
		rows := 0
		n := allocated(func() {
			cr := NewChunkReader(bytes.NewReader(in))
			_, body, e := cr.NextBody()
			require.NoError(t, e)
			var r RowReader
			require.NoError(t, r.ResetReader(body, body.Len()))
			for r.Next() {
				rows++
			}
			err = r.Err()
		})
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.ErrorContains(t, err, "of its 1073741823 bytes")
		assert.Greater(t, rows, 200_000, "the rows that arrived were read")
		assert.Less(t, n, uint64(4<<20), "allocated %d MiB", n>>20)
	})
}
