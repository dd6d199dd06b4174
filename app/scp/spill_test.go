package scp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
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
