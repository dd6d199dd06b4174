package scs

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/splunk/splunk-cloud-sdk-go/services"
	"github.com/splunk/splunk-cloud-sdk-go/services/ingest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSDKBatchEventsSenderLosesEvents documents why this package does not use the SDK's
// BatchEventsSender (v1.11.1): 200 events go in, fewer come out. sendEventInBatches posts
// events[start:end] and then skips events[end], so each batch's last event is lost, mostly
// with no error at all; when a batch is down to nothing it posts an empty one, the service
// rejects it, and the sender stops itself and refuses the rest. Three runs here received
// 99 (97 refused), 195 and 196 of 200. Its goroutines also share EventsQueue and IsRunning
// without locks: go test -race reports data races.
//
// Skipped by default: the sender runs on a wall-clock ticker and its data race makes -race
// runs fail by design. Run it with OKTASIGHT_SDK_BATCH_DEMO=1 (without -race to see the loss,
// with -race to see the race).
func TestSDKBatchEventsSenderLosesEvents(t *testing.T) {
	if os.Getenv("OKTASIGHT_SDK_BATCH_DEMO") == "" {
		t.Skip("documentation of an SDK defect; timing-dependent and racy by nature: set OKTASIGHT_SDK_BATCH_DEMO=1")
	}
	f, srv := newFakeIngest(t)
	client, err := services.NewClient(&services.Config{Tenant: testTenant, Token: testToken, Scheme: "http", OverrideHost: srv.Listener.Addr().String()})
	require.NoError(t, err)
	sender, err := ingest.NewService(client).NewBatchEventsSender(50, 1000, 0)
	require.NoError(t, err)
	sender.Run()
	const n = 200
	refused := 0
	for i := range n {
		// Once a POST fails (it posts an empty batch, which the service rejects), the sender
		// stops itself and refuses further events.
		if sender.AddEvent(ingest.Event{Body: json.RawMessage(`{"i":` + itoa(i) + `}`)}) != nil {
			refused++
		}
	}
	sender.Stop()
	got := len(f.received())
	t.Logf("added %d events to BatchEventsSender (%d refused), the server received %d in %d requests, sender errors: %d",
		n, refused, got, f.posts, len(sender.Errors))
	assert.Less(t, got, n, "BatchEventsSender delivered every event: the SDK may have been fixed")
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
