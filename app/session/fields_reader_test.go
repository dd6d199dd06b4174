package session

import (
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
