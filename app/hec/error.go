package hec

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// HEC status codes that change what the sink does or says; the full list is in Splunk's
// "Troubleshoot HTTP Event Collector" page.
const (
	codeSuccess        = 0
	codeTokenDisabled  = 1
	codeTokenRequired  = 2
	codeInvalidAuth    = 3
	codeInvalidToken   = 4
	codeInvalidFormat  = 6
	codeIncorrectIndex = 7
	codeServerBusy     = 9
	codeNoChannel      = 10
	codeBadChannel     = 11
	codeACKDisabled    = 14
)

// ErrACKDisabled is wrapped by the error returned when UseACK is set but the token does not
// have indexer acknowledgement enabled.
var ErrACKDisabled = errors.New("indexer acknowledgement is not enabled on this HEC token")

// Error is a reply from HEC that is not a success: the HTTP status and HEC's own {"text","code"}.
type Error struct {
	Op     string // "send" or "ack"
	Status int    // HTTP status
	Code   int    // HEC code, -1 when the body had none
	Text   string // HEC text, or the start of a body that was not HEC's JSON
	// InvalidEvent is HEC's invalid-event-number: the index, within the batch, of the first
	// event it rejected; -1 when absent.
	InvalidEvent int
}

func (e *Error) Error() string {
	var hint string
	switch e.Code {
	case codeInvalidToken, codeInvalidAuth, codeTokenRequired:
		hint = ": check the HEC token (--hec-token-env names the variable that holds it)"
	case codeTokenDisabled:
		hint = ": the HEC token is disabled in Splunk (Settings > Data inputs > HTTP Event Collector)"
	case codeIncorrectIndex:
		hint = ": the index does not exist or the token may not write to it (the token's allowed indexes)"
	case codeACKDisabled:
		hint = ": enable indexer acknowledgement on the HEC token, or set --hec-ack=false"
	case codeNoChannel, codeBadChannel:
		hint = ": the token has indexer acknowledgement enabled; set --hec-ack=true"
	}
	if e.Status == http.StatusRequestEntityTooLarge {
		hint = ": the batch is larger than HEC's max_content_length; lower the batch size"
	}
	s := fmt.Sprintf("hec %s: HTTP %d", e.Op, e.Status)
	if e.Code >= 0 {
		s += " code " + strconv.Itoa(e.Code)
	}
	if e.Text != "" {
		s += " " + strconv.Quote(e.Text)
	}
	if e.InvalidEvent >= 0 {
		s += fmt.Sprintf(" (first invalid event: %d of the batch)", e.InvalidEvent)
	}
	return s + hint
}

// Unwrap lets errors.Is find ErrACKDisabled.
func (e *Error) Unwrap() error {
	if e.Code == codeACKDisabled {
		return ErrACKDisabled
	}
	return nil
}

// Retryable reports whether sending the same batch again may succeed: HEC busy or queues full,
// a server-side failure, or throttling. Client errors (bad token, bad data, ACK disabled) are
// not retried: they fail the same way every time.
func (e *Error) Retryable() bool {
	switch {
	case e.Status == http.StatusTooManyRequests, e.Status == http.StatusRequestTimeout:
		return true
	case e.Status >= 500:
		return true
	}
	return false
}

// reply is HEC's JSON answer to an event POST.
type reply struct {
	Text         string `json:"text"`
	Code         *int   `json:"code"`
	AckID        *int64 `json:"ackId"`
	InvalidEvent *int   `json:"invalid-event-number"`
}

// parseReply reads HEC's answer to a POST. A non-JSON body (a proxy's HTML error page, say)
// gives code -1 and its first bytes as text.
func parseReply(body []byte) reply {
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		r = reply{Text: snippet(body)}
	}
	return r
}

// replyError turns a non-success reply into an *Error.
func replyError(op string, status int, r reply) *Error {
	e := &Error{Op: op, Status: status, Code: -1, Text: r.Text, InvalidEvent: -1}
	if r.Code != nil {
		e.Code = *r.Code
	}
	if r.InvalidEvent != nil {
		e.InvalidEvent = *r.InvalidEvent
	}
	return e
}

// snippet keeps error text short and printable; HEC bodies never echo the token.
func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}

// ackReply is HEC's answer to an ack query: {"acks":{"1":true,"2":false}}.
type ackReply struct {
	Acks map[string]bool `json:"acks"`
}

// parseAckReply returns the acknowledged ids.
func parseAckReply(body []byte) (map[int64]bool, error) {
	var r ackReply
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("hec ack: unreadable reply %q: %w", snippet(body), err)
	}
	if r.Acks == nil {
		return nil, fmt.Errorf("hec ack: reply without acks: %q", snippet(body))
	}
	out := make(map[int64]bool, len(r.Acks))
	for k, v := range r.Acks {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("hec ack: ack id %q is not a number", snippet([]byte(k)))
		}
		out[id] = v
	}
	return out, nil
}
