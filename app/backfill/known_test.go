package backfill

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExportSearch(t *testing.T) {
	tests := []struct {
		index, sourcetype string
		want              string
		err               bool
	}{
		{"okta", "", `search index="okta" sourcetype="OktaIM2:log" | stats count by uuid | fields uuid`, false},
		{"sec_okta-2", "okta:im2", `search index="sec_okta-2" sourcetype="okta:im2" | stats count by uuid | fields uuid`, false},
		{"okta", `a"b\c`, `search index="okta" sourcetype="a\"b\\c" | stats count by uuid | fields uuid`, false},
		{"", "", "", true},
		{"okta*", "", "", true},
		{`okta" OR index="*`, "", "", true},
		{"-okta", "", "", true},
		{"okta", "x\n| delete", "", true},
		{"okta", "x\x00", "", true},
	}
	for _, tt := range tests {
		got, err := ExportSearch(tt.index, tt.sourcetype)
		if tt.err {
			assert.ErrorIs(t, err, ErrSearchArg, "%q %q", tt.index, tt.sourcetype)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
}

func TestKnownFromExportErrors(t *testing.T) {
	down := errors.New("connection refused")
	_, err := KnownFromExport(t.Context(), &indexExporter{err: down}, "okta", "", since, until)
	assert.ErrorIs(t, err, down)
	assert.Contains(t, err.Error(), "index okta")

	ex := &indexExporter{}
	_, err = KnownFromExport(t.Context(), ex, "bad index", "", since, until)
	assert.ErrorIs(t, err, ErrSearchArg)
	assert.Empty(t, ex.searches, "no search is run for a bad index")
}

// rowsExporter sends fixed rows, checking ctx as a real exporter would.
type rowsExporter []map[string]string

func (r rowsExporter) Export(ctx context.Context, _ string, _, _ time.Time, fn func(map[string]string) error) error {
	for _, row := range r {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}

func TestUUIDSet(t *testing.T) {
	canonical := "7d4f6a2e-4e0c-11ef-9a6d-7f0c0b1a2e3d"
	known, err := KnownFromExport(t.Context(), rowsExporter{
		{"uuid": canonical}, {"uuid": canonical}, {"uuid": "legacy-id-1"}, {"uuid": ""}, {"other": "x"},
	}, "okta", "", since, until)
	require.NoError(t, err)
	set := known.(*UUIDSet)
	assert.Equal(t, 2, set.Len())
	for _, tt := range []struct {
		uuid string
		has  bool
	}{
		{canonical, true},
		{"legacy-id-1", true},
		{"7D4F6A2E-4E0C-11EF-9A6D-7F0C0B1A2E3D", false}, // uuids are compared as Okta sends them
		{"7d4f6a2e-4e0c-11ef-9a6d-7f0c0b1a2e3e", false},
		{"7d4f6a2e4e0c11ef9a6d7f0c0b1a2e3d", false},
		{"", false},
	} {
		assert.Equal(t, tt.has, set.Has(tt.uuid), tt.uuid)
	}
	assert.False(t, KnownNone{}.Has(canonical))
}

func TestCompactUUID(t *testing.T) {
	k, ok := compactUUID("00112233-4455-6677-8899-aabbccddeeff")
	require.True(t, ok)
	assert.Equal(t, [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}, k)
	for _, bad := range []string{"00112233-4455-6677-8899-aabbccddeef", "00112233-4455-6677-8899_aabbccddeeff", "0011223g-4455-6677-8899-aabbccddeeff", "00112233-4455-6677-8899-AABBCCDDEEFF"} {
		_, ok := compactUUID(bad)
		assert.False(t, ok, bad)
	}
}
