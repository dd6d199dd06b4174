package scp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spiller is a reporting command that writes all its rows in Finish, moving them to a file
// every `every` rows, with a row begun before each Spill and ended after it.
type spiller struct {
	rows, every int
	f           *os.File
}

func (s *spiller) GetInfo(*Info) (*GetInfoReply, error) { return &GetInfoReply{Type: Reporting}, nil }
func (s *spiller) Execute(*Request, *RowWriter) error   { return nil }

func (s *spiller) Finish(w *RowWriter) error {
	if err := w.SetFields("n", "text"); err != nil {
		return err
	}
	for i := range s.rows {
		w.Value(strconv.Itoa(i))
		if i%s.every == 0 {
			if err := w.Spill(s.f); err != nil {
				return err
			}
			if w.Buffered() != 0 {
				return errors.New("rows left in memory after Spill")
			}
		}
		w.Values([]string{"a,b", `say "hi"`})
		if err := w.EndRow(); err != nil {
			return err
		}
	}
	return nil
}

func TestSpilledReplyIsOneBody(t *testing.T) {
	for _, every := range []int{1, 7, 1000} {
		f, err := os.CreateTemp(t.TempDir(), "reply")
		require.NoError(t, err)
		defer f.Close()
		cmd := &spiller{rows: 500, every: every, f: f}
		var out bytes.Buffer
		require.NoError(t, Serve(context.Background(), bytes.NewReader(stream(frame(getinfo()), request(false, "a\n1\n"), request(true, ""))), &out, cmd))

		cr := NewChunkReader(&out)
		for range 2 { // getinfo and first reply
			_, _, err := cr.Next()
			require.NoError(t, err)
		}
		meta, body, err := cr.Next()
		require.NoError(t, err, "the declared length matches the bytes")
		assert.JSONEq(t, `{"finished":true}`, string(meta))
		var r RowReader
		require.NoError(t, r.Reset(body))
		n := 0
		var vals [][]byte
		for r.Next() {
			require.Equal(t, strconv.Itoa(n), string(r.Value(0)), "rows in order")
			vals, err = r.Values(1, vals[:0])
			require.NoError(t, err)
			require.Equal(t, [][]byte{[]byte("a,b"), []byte(`say "hi"`)}, vals)
			n++
		}
		require.NoError(t, r.Err())
		assert.Equal(t, 500, n, "every=%d", every)
		_, _, err = cr.Next()
		assert.Equal(t, io.EOF, err)
	}
}

func TestSpillErrors(t *testing.T) {
	var w RowWriter
	require.NoError(t, w.SetFields("n"))
	w.Value("1")
	require.NoError(t, w.EndRow())
	f1, err := os.CreateTemp(t.TempDir(), "a")
	require.NoError(t, err)
	defer f1.Close()
	f2, err := os.CreateTemp(t.TempDir(), "b")
	require.NoError(t, err)
	defer f2.Close()
	require.NoError(t, w.Spill(f1))
	w.Value("2")
	require.NoError(t, w.EndRow())
	assert.Error(t, w.Spill(f2), "one file per reply")
	require.NoError(t, f1.Close())
	err = w.Spill(f1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spilling reply rows")
	w.Reset()
	assert.Zero(t, w.Buffered())
	require.NoError(t, w.SetFields("n"))
	require.NoError(t, w.Spill(f2), "Reset forgets the file of the last reply")
}

// blockWriter writes rows of about 200 bytes, enough for several blocks, in every reply:
// every 1000th row short of a cell (dropped by EndRow), and in Finish a Spill every `every`
// rows when every > 0.
type blockWriter struct {
	rows, every int
	f           *os.File
}

func (b *blockWriter) GetInfo(*Info) (*GetInfoReply, error) {
	return &GetInfoReply{Type: Reporting}, nil
}

func (b *blockWriter) Execute(_ *Request, w *RowWriter) error { return b.write(w, 0) }

func (b *blockWriter) Finish(w *RowWriter) error { return b.write(w, b.every) }

func (b *blockWriter) write(w *RowWriter, every int) error {
	if err := w.SetFields("n", "text"); err != nil {
		return err
	}
	for i := range b.rows {
		w.Value(strconv.Itoa(i))
		if every > 0 && i%every == 0 {
			if err := w.Spill(b.f); err != nil {
				return err
			}
		}
		if i%1000 == 999 {
			if err := w.EndRow(); err == nil {
				return errors.New("a row short of a cell was kept")
			}
			continue
		}
		w.Value(blockText(i))
		if err := w.EndRow(); err != nil {
			return err
		}
	}
	return nil
}

// blockText is row i's text, quoted when it is written on even rows.
func blockText(i int) string {
	s := strings.Repeat(strconv.Itoa(i%10), 180+i%37)
	if i%2 == 0 {
		s += ", even"
	}
	return s
}

// blockBody is the body blockWriter writes, spelt out.
func blockBody(rows int) string {
	var b strings.Builder
	b.WriteString("n,__mv_n,text,__mv_text\r\n")
	for i := range rows {
		if i%1000 == 999 {
			continue
		}
		text := blockText(i)
		if i%2 == 0 {
			text = `"` + text + `"`
		}
		fmt.Fprintf(&b, "%d,,%s,\r\n", i, text)
	}
	return b.String()
}

// blockRows is how many rows blockWriter writes: three blocks' worth and more.
const blockRows = 3 * blockSize / 200

func TestRepliesAcrossBlocks(t *testing.T) {
	want := blockBody(blockRows)
	require.Greater(t, len(want), 2*blockSize)
	for _, every := range []int{0, blockRows / 4, 10 * blockRows} {
		f, err := os.CreateTemp(t.TempDir(), "reply")
		require.NoError(t, err)
		defer f.Close()
		cmd := &blockWriter{rows: blockRows, every: every, f: f}
		var out bytes.Buffer
		require.NoError(t, Serve(context.Background(), bytes.NewReader(stream(frame(getinfo()), request(false, "a\n1\n"), request(false, "a\n1\n"), request(true, "a\n1\n"))), &out, cmd))

		cr := NewChunkReader(&out)
		_, _, err = cr.Next() // getinfo
		require.NoError(t, err)
		// The second reply reuses the first's blocks; the last has its own rows and Finish's.
		for i, body := range []string{want, want, want + want[len("n,__mv_n,text,__mv_text\r\n"):]} {
			_, got, err := cr.Next()
			require.NoError(t, err, "reply %d: the declared length matches the bytes", i)
			require.Equal(t, len(body), len(got), "reply %d, every=%d", i, every)
			require.True(t, body == string(got), "reply %d, every=%d: the rows in order", i, every)
		}
		_, _, err = cr.Next()
		assert.Equal(t, io.EOF, err)
	}
}

func TestBodyAcrossBlocks(t *testing.T) {
	var w RowWriter
	cmd := &blockWriter{rows: blockRows}
	require.NoError(t, cmd.write(&w, 0))
	require.NotEmpty(t, w.blocks, "the rows fill more than a block")
	want := blockBody(blockRows)
	assert.True(t, want == string(w.Body()))
	assert.Equal(t, len(want)-len("n,__mv_n,text,__mv_text\r\n"), w.Buffered())
}

// TestHugeHeaderBlocks: the header, copied to the start of every block, does not count
// towards a block's rows, or a header longer than a block would make a block of every row.
func TestHugeHeaderBlocks(t *testing.T) {
	var w RowWriter
	long := strings.Repeat("f", blockSize/2)
	require.NoError(t, w.SetFields(long+"1", long+"2"))
	want := long + "1,__mv_" + long + "1," + long + "2,__mv_" + long + "2\r\n"
	for i := range 10 {
		w.Value(strconv.Itoa(i))
		w.Value("x")
		require.NoError(t, w.EndRow())
		want += strconv.Itoa(i) + ",,x,\r\n"
	}
	assert.Empty(t, w.blocks)
	assert.True(t, want == string(w.Body()))
}
