package extsort

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type rec struct {
	key int64
	b   string
}

func compareRec(a, b rec) int {
	if c := cmp.Compare(a.key, b.key); c != 0 {
		return c
	}
	return strings.Compare(a.b, b.b)
}

// sortAll runs recs through a Sorter and returns them as Each gives them.
func sortAll(t testing.TB, o Options, recs []rec) ([]rec, Stats) {
	t.Helper()
	s := New(o)
	defer func() { require.NoError(t, s.Close()) }()
	for _, r := range recs {
		require.NoError(t, s.Add(r.key, []byte(r.b)))
	}
	var out []rec
	require.NoError(t, s.Each(context.Background(), func(k int64, b []byte) error {
		out = append(out, rec{k, string(b)})
		return nil
	}))
	return out, s.Stats()
}

// randomRecs makes n records with many equal keys, some equal records, and a few large ones.
func randomRecs(r *rand.Rand, n int) []rec {
	recs := make([]rec, n)
	for i := range recs {
		key := r.Int64N(int64(n/4+1)) - int64(n/8) // negative keys too
		size := r.IntN(40)
		if r.IntN(200) == 0 {
			size = 5000 + r.IntN(20000)
		}
		b := make([]byte, size)
		for j := range b {
			b[j] = byte('a' + r.IntN(3))
		}
		recs[i] = rec{key, string(b)}
		if i > 0 && r.IntN(10) == 0 {
			recs[i] = recs[r.IntN(i)]
		}
	}
	return recs
}

// filesIn lists the directory, and the open descriptors of this process on files in it.
func filesIn(t testing.TB, dir string) (names []string, open int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if runtime.GOOS == "linux" {
		fds, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		for _, fd := range fds {
			if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
				open++
			}
		}
	}
	return names, open
}

// bothRemoveModes runs f with run files unlinked while open and with Close removing them.
func bothRemoveModes(t *testing.T, f func(t *testing.T)) {
	for _, early := range []bool{true, false} {
		t.Run(fmt.Sprintf("unlink_open=%t", early), func(t *testing.T) {
			defer func(old bool) { removeOpen = old }(removeOpen)
			removeOpen = early && runtime.GOOS != "windows"
			f(t)
		})
	}
}

func TestSortMatchesSlicesSort(t *testing.T) {
	bothRemoveModes(t, func(t *testing.T) {
		tests := []struct {
			name   string
			n      int
			budget int
			fanIn  int
			runs   bool // whether run files must have been written
		}{
			{"empty", 0, 0, 0, false},
			{"in memory", 5000, 0, 0, false},
			{"spills", 20000, 64 << 10, 0, true},
			{"merges in levels", 20000, 8 << 10, 3, true},
			{"fan-in of two", 3000, 4 << 10, 2, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				dir := t.TempDir()
				recs := randomRecs(rand.New(rand.NewPCG(uint64(tt.n), 7)), tt.n)
				got, st := sortAll(t, Options{Dir: dir, Budget: tt.budget, FanIn: tt.fanIn}, recs)
				want := slices.Clone(recs)
				slices.SortFunc(want, compareRec)
				require.Equal(t, len(want), len(got))
				assert.True(t, slices.Equal(want, got), "records in key, then byte order")
				assert.Equal(t, int64(tt.n), st.Records)
				assert.Equal(t, tt.runs, st.Runs > 0, "runs written: %d", st.Runs)
				names, open := filesIn(t, dir)
				assert.Empty(t, names, "Close removes every run file")
				assert.Zero(t, open, "Close closes every run file")
			})
		}
	})
}

func TestOrderDoesNotDependOnInputOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	recs := randomRecs(r, 4000)
	first, _ := sortAll(t, Options{Dir: t.TempDir(), Budget: 16 << 10, FanIn: 4}, recs)
	for range 3 {
		r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		again, _ := sortAll(t, Options{Dir: t.TempDir(), Budget: 16 << 10, FanIn: 4}, recs)
		require.Equal(t, first, again)
	}
}

func TestCloseCleansUpOnEveryPath(t *testing.T) {
	bothRemoveModes(t, func(t *testing.T) {
		errStop := errors.New("stop")
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		paths := []struct {
			name string
			end  func(s *Sorter) error
			want error
		}{
			{"closed before Each", func(*Sorter) error { return nil }, nil},
			{"Each ran", func(s *Sorter) error {
				return s.Each(context.Background(), func(int64, []byte) error { return nil })
			}, nil},
			{"fn failed", func(s *Sorter) error {
				return s.Each(context.Background(), func(int64, []byte) error { return errStop })
			}, errStop},
			{"context cancelled", func(s *Sorter) error {
				return s.Each(cancelled, func(int64, []byte) error { return nil })
			}, context.Canceled},
			{"panic in fn", func(s *Sorter) (err error) {
				defer func() {
					if recover() != nil {
						err = errStop
					}
				}()
				return s.Each(context.Background(), func(int64, []byte) error { panic("boom") })
			}, errStop},
		}
		for _, p := range paths {
			t.Run(p.name, func(t *testing.T) {
				dir := t.TempDir()
				s := New(Options{Dir: dir, Budget: 8 << 10, FanIn: 3})
				for _, r := range randomRecs(rand.New(rand.NewPCG(3, 4)), 3000) {
					require.NoError(t, s.Add(r.key, []byte(r.b)))
				}
				require.Positive(t, s.Stats().Runs)
				names, open := filesIn(t, dir)
				if removeOpen {
					assert.Empty(t, names, "run files are unlinked as soon as they are made")
				} else {
					assert.NotEmpty(t, names)
				}
				if runtime.GOOS == "linux" {
					assert.Positive(t, open)
				}
				err := p.end(s)
				if p.want == nil {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, p.want)
				}
				require.NoError(t, s.Close())
				require.NoError(t, s.Close(), "Close twice is fine")
				names, open = filesIn(t, dir)
				assert.Empty(t, names)
				assert.Zero(t, open)
				assert.Error(t, s.Add(1, nil), "a closed Sorter takes nothing")
			})
		}
	})
}

func TestErrors(t *testing.T) {
	t.Run("record too large", func(t *testing.T) {
		s := New(Options{Dir: t.TempDir()})
		defer s.Close()
		err := s.Add(1, make([]byte, MaxRecord+1))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the most is")
		require.NoError(t, s.Add(1, []byte("fine")), "a refused record does not stop the Sorter")
	})
	t.Run("no directory for runs", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "gone")
		s := New(Options{Dir: dir, Budget: 4 << 10})
		defer s.Close()
		var err error
		for i := 0; err == nil && i < 10000; i++ {
			err = s.Add(int64(i), []byte("some record bytes"))
		}
		require.Error(t, err)
		assert.Contains(t, err.Error(), "creating a run file")
		assert.Contains(t, err.Error(), dir, "the error names the directory")
		assert.Equal(t, err, s.Add(1, nil), "the error sticks")
		assert.Equal(t, err, s.Each(context.Background(), func(int64, []byte) error { return nil }))
	})
	t.Run("each twice", func(t *testing.T) {
		s := New(Options{})
		defer s.Close()
		require.NoError(t, s.Each(context.Background(), func(int64, []byte) error { return nil }))
		assert.Error(t, s.Each(context.Background(), func(int64, []byte) error { return nil }))
		assert.Error(t, s.Add(1, nil))
	})
}

// writeRun encodes recs (sorted) as a run file in memory.
func writeRun(t testing.TB, recs []rec) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := newRunWriter(&b, "test.run", nil)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, w.add(r.key, []byte(r.b)))
	}
	require.NoError(t, w.finish())
	return b.Bytes()
}

// readRun decodes a run file in memory.
func readRun(data []byte) ([]rec, error) {
	r, err := openRun(bytes.NewReader(data), int64(len(data)), "test.run", nil)
	if err != nil {
		return nil, err
	}
	var out []rec
	for {
		ok, err := r.next()
		if err != nil {
			return out, err
		}
		if !ok {
			return out, nil
		}
		k, b := r.head()
		out = append(out, rec{k, string(b)})
	}
}

func TestRunFileDamageIsAnError(t *testing.T) {
	recs := randomRecs(rand.New(rand.NewPCG(5, 6)), 3000)
	slices.SortFunc(recs, compareRec)
	data := writeRun(t, recs)
	got, err := readRun(data)
	require.NoError(t, err)
	require.Equal(t, recs, got)
	require.Greater(t, len(data), 3*blockSize, "several blocks")

	check := func(t *testing.T, what string, damaged []byte) {
		t.Helper()
		r, err := openRun(bytes.NewReader(damaged), int64(len(damaged)), "test.run", nil)
		for i := 0; err == nil; i++ {
			var ok bool
			if ok, err = r.next(); ok {
				// What comes before the error are the file's first records: no record of a
				// damaged block is ever returned.
				if k, b := r.head(); i >= len(recs) || k != recs[i].key || string(b) != recs[i].b {
					t.Fatalf("%s: record %d is not the file's", what, i)
				}
			} else if err == nil {
				t.Fatalf("%s: read to the end without an error", what)
			}
		}
		if !assert.ErrorIs(t, err, ErrCorrupt, what) {
			return
		}
		assert.Contains(t, err.Error(), "test.run", "the error names the file")
		assert.Contains(t, err.Error(), "at byte", "and where")
	}
	// Where the format's own bytes are: the magic, each block's head, the end.
	heads := map[int]bool{}
	for off := len(magic); off < len(data); off += blockHead + int(binaryLE32(data[off:])) {
		for i := off - 2; i < off+blockHead+2; i++ {
			heads[i] = true
		}
	}
	near := func(i int) bool { return i < 64 || i >= len(data)-64 || heads[i] || i%997 == 0 }
	for n := 0; n < len(data); n++ {
		if near(n) {
			check(t, fmt.Sprintf("cut to %d bytes", n), data[:n])
		}
	}
	check(t, "a byte more", append(slices.Clone(data), 0))
	for i := 0; i < len(data); i++ {
		if !near(i) {
			continue
		}
		for _, x := range []byte{0x01, 0x80, 0xff} {
			d := slices.Clone(data)
			d[i] ^= x
			check(t, fmt.Sprintf("byte %d ^ %#x", i, x), d)
		}
	}
	// Blocks swapped, or one dropped: each block is whole, but not where it was written.
	second := int64(len(magic))
	first := blockHead + int64(binaryLE32(data[second:]))
	third := second + first
	l2 := blockHead + int64(binaryLE32(data[third:]))
	swapped := slices.Concat(data[:second], data[third:third+l2], data[second:third], data[third+l2:])
	check(t, "blocks swapped", swapped)
	check(t, "a block dropped", slices.Concat(data[:second], data[third:]))
}

func binaryLE32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// FuzzRunFile reads arbitrary bytes as a run file: it must give an error or records in order,
// as many as the end mark counts, which read the same once written again.
func FuzzRunFile(f *testing.F) {
	f.Add([]byte(magic))
	f.Add(writeRun(f, nil))
	f.Add(writeRun(f, []rec{{-5, ""}, {1, "a"}, {1, "b"}, {1 << 50, "zz"}}))
	big := randomRecs(rand.New(rand.NewPCG(8, 9)), 300)
	slices.SortFunc(big, compareRec)
	f.Add(writeRun(f, big))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := readRun(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("an error that is not ErrCorrupt: %v", err)
			}
			return
		}
		if !slices.IsSortedFunc(got, compareRec) {
			t.Fatalf("records out of order: %v", got)
		}
		again, err := readRun(writeRun(t, got))
		if err != nil || !slices.Equal(got, again) {
			t.Fatalf("written again: %v, %v != %v", err, again, got)
		}
	})
}

// FuzzSorter sorts records cut from the input, with small budgets and fan-ins, and compares
// with slices.SortFunc.
func FuzzSorter(f *testing.F) {
	f.Add([]byte("hello world, this is a list of records"), uint16(100), uint8(2))
	f.Add(bytes.Repeat([]byte{7, 0, 1, 2, 3}, 500), uint16(300), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, budget uint16, fanIn uint8) {
		var recs []rec
		for len(data) > 0 {
			n := min(int(data[0])%24, len(data)-1)
			recs = append(recs, rec{int64(data[0]%5) - 2, string(data[1 : 1+n])})
			data = data[1+n:]
		}
		dir := t.TempDir()
		got, _ := sortAll(t, Options{Dir: dir, Budget: int(budget), FanIn: int(fanIn%5) + 2}, recs)
		want := slices.Clone(recs)
		slices.SortFunc(want, compareRec)
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		if names, _ := filesIn(t, dir); len(names) > 0 {
			t.Fatalf("files left: %v", names)
		}
	})
}
