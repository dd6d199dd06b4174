package okta

import (
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// zeros reads n zero bytes without touching the buffer it fills.
type zeros struct{ n int }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), z.n)
	z.n -= k
	return k, nil
}

func TestReadAllBoundsThePage(t *testing.T) {
	for _, tt := range []struct {
		name    string
		size    int
		tooBig  bool
		wantCap int // 0: any
	}{
		{"small page doubles", 3000, false, 4096},
		{"normal page", keepBytes, false, keepBytes},
		{"past a normal page: straight to the cap", keepBytes + 1, false, MaxPageBytes + 1},
		{"at the cap", MaxPageBytes, false, MaxPageBytes + 1},
		{"over the cap", MaxPageBytes + 1, true, MaxPageBytes + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := readAll(&zeros{n: tt.size}, nil)
			if tt.tooBig {
				require.ErrorIs(t, err, ErrPageTooLarge)
			} else {
				require.NoError(t, err)
				assert.Len(t, b, tt.size)
			}
			assert.Equal(t, tt.wantCap, cap(b), "capacity")
		})
	}
}

func TestOnlyNormalPagesArePooled(t *testing.T) {
	c, err := New(Config{OrgURL: "https://acme.okta.com"})
	require.NoError(t, err)
	big := make([]byte, 0, keepBytes+1)
	c.putBody(&big)
	assert.Nil(t, c.getBody(), "a buffer above a normal page is not kept")
	normal := make([]byte, 0, keepBytes)
	c.putBody(&normal)
	assert.Equal(t, keepBytes, cap(c.getBody()))
}

// A Content-Length above the cap is refused before any of the body is read, and retried.
func TestContentLengthOverTheCapIsRefused(t *testing.T) {
	clk := &fakeClock{now: t0}
	f := newFakeOkta(t, clk,
		reply{header: map[string]string{"Content-Length": strconv.Itoa(MaxPageBytes + 1)}},
		reply{body: events(2, 0), rate: rate(50, 48, t0.Add(time.Minute))},
	)
	c, logs := testClient(t, f.srv, clk, nil)
	page, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 2}))
	require.NoError(t, err)
	assert.Len(t, page.Events, 2)
	assert.Equal(t, 2, page.Attempts)
	assert.Contains(t, logs.String(), "page larger than 256 MiB: Content-Length 268435457")
}
