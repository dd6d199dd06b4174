package okta

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Event is one System Log event: the two fields the poller needs, and the event itself exactly
// as Okta sent it.
type Event struct {
	UUID      string
	Published time.Time // UTC
	Raw       []byte    // the bytes of the array element, unchanged; owned by the Event
}

// BodyError reports a response body that is not a complete JSON array: cut short, invalid,
// or not an array. Fetching the same URL again may well succeed.
type BodyError struct {
	Offset int64 // bytes of the body read when the problem was found
	Err    error
}

func (e *BodyError) Error() string {
	return fmt.Sprintf("invalid or truncated page at byte %d: %v", e.Offset, e.Err)
}

func (e *BodyError) Unwrap() error { return e.Err }

// EventError reports an element of a well-formed page that is not a usable event. Fetching the
// page again returns the same element, so it is not retried.
type EventError struct {
	Index int // position of the element in the page, from 0
	Err   error
}

func (e *EventError) Error() string {
	return fmt.Sprintf("event %d of the page: %v", e.Index, e.Err)
}

func (e *EventError) Unwrap() error { return e.Err }

// ErrBadEvent is wrapped by every EventError.
var ErrBadEvent = errors.New("not a usable System Log event")

// DecodePage reads a page of the System Log: a JSON array of events. Each element is kept as
// the exact bytes Okta sent (key order, white space and unknown fields included); only uuid
// and published are decoded. A body that is cut short or is not a JSON array gives a
// *BodyError; an element without a uuid or with an unreadable published gives an *EventError
// that names the element.
func DecodePage(r io.Reader) ([]Event, error) {
	dec := json.NewDecoder(r)
	bodyErr := func(err error) error {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return &BodyError{Offset: dec.InputOffset(), Err: err}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, bodyErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, &BodyError{Offset: dec.InputOffset(), Err: fmt.Errorf("want a JSON array, got %s", describeToken(tok))}
	}
	var events []Event
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage // a fresh one each time: Decode copies into it, so Raw owns its bytes
		if err := dec.Decode(&raw); err != nil {
			return nil, bodyErr(err)
		}
		ev, err := decodeEvent(raw)
		if err != nil {
			return nil, &EventError{Index: i, Err: err}
		}
		events = append(events, ev)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, bodyErr(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the array")
		}
		return nil, &BodyError{Offset: dec.InputOffset(), Err: err}
	}
	return events, nil
}

func decodeEvent(raw []byte) (Event, error) {
	uuid, published, err := eventFields(raw)
	if err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	if uuid == "" {
		return Event{}, fmt.Errorf("%w: no uuid", ErrBadEvent)
	}
	if published == "" {
		return Event{}, fmt.Errorf("%w: uuid %s: no published", ErrBadEvent, clip(uuid, 64))
	}
	t, err := ParseTime(published)
	if err != nil {
		return Event{}, fmt.Errorf("%w: uuid %s: published: %w", ErrBadEvent, clip(uuid, 64), err)
	}
	return Event{UUID: uuid, Published: t, Raw: raw}, nil
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(v))
	case nil:
		return "null"
	case string:
		return "a string"
	default:
		return fmt.Sprintf("%T", v)
	}
}
