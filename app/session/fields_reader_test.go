package session

import (
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
			require.ErrorIs(t, x.FromCells(row, row.cells, &row.cols, &e), ErrNotOkta, "%q layout %d", typ, k)
			require.Equal(t, stale, e, "%q layout %d", typ, k)
		}
	}
}
