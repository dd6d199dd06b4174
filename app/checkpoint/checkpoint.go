// Package checkpoint owns where an input resumes: the saved cursor of each stanza, written
// atomically so that a crash leaves either the old or the new checkpoint, never a torn one.
package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Version is the checkpoint format this build writes; a newer one is refused, not guessed at.
const Version = 1

// ErrNotFound means the input has no checkpoint yet: it starts from its start date.
var ErrNotFound = errors.New("checkpoint: not found")

// Checkpoint is where one input stands: the Okta cursor to request next, and the identity of
// the query it belongs to, so a changed org, start date or filter is noticed.
type Checkpoint struct {
	Version   int    `json:"version"`
	Stanza    string `json:"stanza"`
	OrgURL    string `json:"org_url"`
	StartDate string `json:"start_date,omitempty"`
	Filter    string `json:"filter,omitempty"`
	Q         string `json:"q,omitempty"`
	// NextURL is Okta's rel="next" link after the last page written; its opaque cursor is
	// the only position Okta guarantees.
	NextURL string `json:"next_url"`
	// LastPublished and LastUUID describe the last event written, for humans and for
	// restarting a query from there when the filter changes.
	LastPublished string `json:"last_published,omitempty"`
	LastUUID      string `json:"last_uuid,omitempty"`
	// Seen holds the uuids of the last pages written: Okta may serve a few events again at
	// a cursor boundary, and those must not be indexed twice.
	Seen      []string  `json:"seen,omitempty"`
	Events    int64     `json:"events"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Store loads and saves checkpoints by key (the stanza name).
type Store interface {
	// Load returns ErrNotFound when the key has none, a *CorruptError when it cannot be read.
	Load(ctx context.Context, key string) (*Checkpoint, error)
	// Save returns only once the checkpoint is durable.
	Save(ctx context.Context, key string, cp *Checkpoint) error
}

// CorruptError says a saved checkpoint exists but cannot be used; the input stops rather than
// start over, which could re-index or skip months of events.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	remedy := "move the file away"
	if strings.HasPrefix(e.Path, kvPrefix) {
		remedy = "delete that document from the collection (REST: DELETE .../storage/collections/data/<collection>/<key>)"
	}
	return fmt.Sprintf("checkpoint %s cannot be read (%v); to start this input again from its start_date, %s", e.Path, e.Err, remedy)
}

func (e *CorruptError) Unwrap() error { return e.Err }
