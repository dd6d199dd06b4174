package okta

import (
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
	// Raw is the bytes of the array element, unchanged but for the text rule (see mendText):
	// a byte that is not UTF-8 becomes U+FFFD, U+FFFE and U+FFFF become \ufffe and \uffff.
	// Owned by the Event.
	Raw []byte
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
// the exact bytes Okta sent (key order, white space and unknown fields included, under the
// text rule of mendText for bytes that are not UTF-8, U+FFFE and U+FFFF); only uuid
// and published are decoded. The body is read whole (a page is at most a few megabytes) and
// validated in one pass; each Raw is a capacity-limited slice of it, so events share one
// allocation but never each other's bytes. A body that is cut short or is not a JSON array
// gives a *BodyError; an element without a uuid or with an unreadable published gives an
// *EventError that names the element (only once the whole body is known to be well formed:
// a truncated page is retried, not blamed on an event).
func DecodePage(r io.Reader) ([]Event, error) {
	events, _, err := decodeBody(r, nil)
	return events, err
}

// decodeBody is DecodePage reading into buf (from its start, growing it when the body does
// not fit), so the client can reuse the memory of released pages; it returns the body read.
func decodeBody(r io.Reader, buf []byte) ([]Event, []byte, error) {
	body, err := readAll(r, buf)
	if err != nil {
		return nil, body, &BodyError{Offset: int64(len(body)), Err: err}
	}
	events, err := scanBody(body)
	if err == nil {
		mendText(events, body)
	}
	return events, body, err
}

// scanBody validates a page body and returns its events, which point into body.
func scanBody(body []byte) ([]Event, error) {
	s := &scanner{b: body}
	bodyErr := func(err error) error {
		off := s.i
		var se *syntaxError
		if errors.As(err, &se) {
			off = se.offset
		}
		return &BodyError{Offset: int64(off), Err: err}
	}
	s.ws()
	if s.i >= len(body) {
		return nil, bodyErr(io.ErrUnexpectedEOF)
	}
	if body[s.i] != '[' {
		if what := describeStart(body[s.i:]); what != "" {
			return nil, bodyErr(fmt.Errorf("want a JSON array, got %s", what))
		}
		return nil, bodyErr(s.invalid("looking for beginning of value"))
	}
	s.i++
	s.depth = 1
	var (
		events   = make([]Event, 0, 1000)
		firstBad error
	)
	s.ws()
	if s.i < len(body) && body[s.i] == ']' {
		s.i++
	} else {
		for idx := 0; ; idx++ {
			s.ws()
			if s.i >= len(body) {
				return nil, bodyErr(io.ErrUnexpectedEOF)
			}
			start := s.i
			if body[s.i] != '{' {
				if err := s.value(); err != nil {
					return nil, bodyErr(err)
				}
				if firstBad == nil {
					firstBad = &EventError{Index: idx, Err: fmt.Errorf("%w: %w", ErrBadEvent, errNotObject)}
				}
			} else {
				uuid, pub, err := s.event()
				if err != nil {
					return nil, bodyErr(err)
				}
				if firstBad == nil {
					raw := body[start:s.i:s.i]
					ev, err := decodeEvent(raw, uuid, pub, start)
					if err != nil {
						firstBad = &EventError{Index: idx, Err: err}
					}
					events = append(events, ev)
				}
			}
			done, err := s.next(']', "after array element")
			if err != nil {
				return nil, bodyErr(err)
			}
			if done {
				break
			}
		}
	}
	s.ws()
	if s.i < len(body) {
		return nil, bodyErr(errors.New("data after the array"))
	}
	if firstBad != nil {
		return nil, firstBad
	}
	return events, nil
}

// decodeEvent reads the uuid and published members found by the scanner; offset is where raw
// starts in the body the members point into.
func decodeEvent(raw []byte, uuidM, pubM member, offset int) (Event, error) {
	uuidM.start, uuidM.end = shift(uuidM, offset)
	pubM.start, pubM.end = shift(pubM, offset)
	uuid, err := uuidM.text(raw, "uuid")
	if err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	if uuid == "" {
		return Event{}, fmt.Errorf("%w: no uuid", ErrBadEvent)
	}
	published, err := pubM.text(raw, "published")
	if err != nil {
		return Event{}, fmt.Errorf("%w: uuid %s: %w", ErrBadEvent, clip(uuid, 64), err)
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

func shift(m member, offset int) (int, int) {
	if m.end == 0 {
		return 0, 0
	}
	return m.start - offset, m.end - offset
}

// describeStart names the JSON value a non-array body starts with, or "" if none does.
func describeStart(b []byte) string {
	s := &scanner{b: b}
	if s.value() != nil {
		return ""
	}
	switch b[0] {
	case '{':
		return `"{"`
	case 'n':
		return "null"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// ErrPageTooLarge is wrapped by the *BodyError of a page larger than the client reads
// (MaxPageBytes): a server or proxy gone wrong, since 1000 events are a few megabytes.
var ErrPageTooLarge = fmt.Errorf("page larger than %d MiB", MaxPageBytes>>20)

// readAll is io.ReadAll into b (from its start) of at most MaxPageBytes: more is
// ErrPageTooLarge. Its capacity doubles while it runs out up to keepBytes, a normal page;
// past that it grows once, straight to the cap, so that the memory of an oversized answer
// peaks at the cap plus keepBytes or so (doubling on to the cap and beyond kept three
// buffers of 64, 128 and 256 MiB and more alive at once: 784 MiB RSS for a 2 GiB page).
func readAll(r io.Reader, b []byte) ([]byte, error) {
	b = b[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, 512)
	}
	var probe [512]byte
	for {
		var (
			n   int
			err error
		)
		if len(b) < cap(b) {
			n, err = r.Read(b[len(b):cap(b)])
			b = b[:len(b)+n]
		} else if n, err = r.Read(probe[:]); n > 0 {
			// Grown only once more bytes are known to come: a body that fills the buffer
			// exactly is not copied into a larger one.
			c := 2 * cap(b)
			if c > keepBytes {
				c = MaxPageBytes + 1 // one byte more tells a page over the cap
			}
			nb := make([]byte, len(b), c)
			copy(nb, b)
			b = append(nb, probe[:n]...)
		}
		if len(b) > MaxPageBytes {
			return b, ErrPageTooLarge
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b, nil
			}
			return b, err
		}
	}
}
