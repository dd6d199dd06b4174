package session

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// eventField must point each RowFields position FromRow fills at the Event field FromFields
// documents for it.
func TestEventFieldPointsAtTheField(t *testing.T) {
	var e Event
	want := [fFactor + 1]*string{
		fType: &e.Type, fUUID: &e.UUID, fActorID: &e.ActorID, fActorType: &e.ActorType,
		fActorLogin: &e.ActorLogin, fActorName: &e.ActorName, fIP: &e.IP, fUA: &e.UserAgent,
		fSession: &e.SessionID, fResult: &e.Result, fReason: &e.Reason, fFactor: &e.Factor,
	}
	for f, p := range want {
		require.Same(t, p, eventField(&e, f), "field %d (%s)", f, RowFields[f])
	}
}

// A row without an event type is not Okta: FromRow and FromCells must leave the Event as
// it was, on the plain-cell path too.
func TestFromRowNotOktaLeavesEvent(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, typ := range [][]string{nil, {""}, {"null"}, {"unknown"}} {
		fields := map[string][]string{"eventType": typ, "actor.id": {"00u1"}, "outcome.result": {"SUCCESS"},
			"_time": {"1581711537.7"}}
		for k := range 8 {
			row := newCellsRow(r, fields)
			stale := Event{Ref: 7, Type: "stale", ActorID: "stale", Time: 1}
			var x Extractor
			e := stale
			require.ErrorIs(t, x.FromRow(row, &e), ErrNotOkta, "%q layout %d", typ, k)
			require.Equal(t, stale, e, "%q layout %d", typ, k)
			require.ErrorIs(t, row.read(&x, &e), ErrNotOkta, "%q layout %d", typ, k)
			require.Equal(t, stale, e, "%q layout %d", typ, k)
		}
	}
}

// FromRow keeps the target{}.type multivalues it decoded lately: rows drawn from more lists
// than it keeps, some with values that need escaping, must read as through Values alone.
func TestFromRowTargetTypesCache(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	lists := [][]string{{"AppInstance", "AppUser"}, {"PolicyEntity", "PolicyRule"}, {"User", "AppInstance"},
		{"User"}, {"AppInstance", "User", "Group"}, {"a$b", "User"}, {"User", "x\ny"}, {"", "User"}, {"User", "User"}}
	var cached, general Extractor
	buf := make([]byte, 0, 4096)
	for i := range 300 {
		types := lists[r.IntN(len(lists))]
		fields := map[string][]string{"eventType": {"user.authentication.sso"}, "_time": {"1581711537.7"},
			"target{}.type": types}
		for k := range types {
			fields["target{}.id"] = append(fields["target{}.id"], fmt.Sprintf("id%d.%d", i, k))
			fields["target{}.alternateId"] = append(fields["target{}.alternateId"], fmt.Sprintf("login%d", k))
			fields["target{}.displayName"] = append(fields["target{}.displayName"], fmt.Sprintf("name%d", r.IntN(3)))
		}
		// Values whose bytes the next row overwrites, as a chunk's are.
		buf = buf[:cap(buf)]
		for k := range buf {
			buf[k] = '#'
		}
		buf = buf[:0]
		var want, got Event
		require.NoError(t, general.FromRow(getterRow(func(n string) []string { return fields[n] }), &want))
		row := reusingRow{newCellsRow(r, fields), &buf}
		require.NoError(t, cached.FromCells(row, row.cells, &row.cols, &got))
		require.Equal(t, want, got, "row %d %q", i, types)
	}
}

// reusingRow serves a cellsRow's values from a buffer that each row reuses.
type reusingRow struct {
	*cellsRow
	buf *[]byte
}

func (w reusingRow) Values(f int, dst [][]byte) [][]byte {
	for _, v := range w.cellsRow.Values(f, nil) {
		s := len(*w.buf)
		*w.buf = append(*w.buf, v...)
		dst = append(dst, (*w.buf)[s:len(*w.buf):len(*w.buf)])
	}
	return dst
}
