package okta

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// APIError is an HTTP error answer from Okta, with the fields of Okta's error body.
type APIError struct {
	StatusCode int
	Code       string   // errorCode, e.g. E0000011
	Summary    string   // errorSummary, or a short snippet of a body that is not Okta's JSON
	ID         string   // errorId, which Okta support asks for
	Causes     []string // errorCauses[].errorSummary
	URL        string   // path and query of the request
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "okta: %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Summary != "" {
		b.WriteString(" " + e.Summary)
	}
	if e.ID != "" {
		fmt.Fprintf(&b, " (errorId %s)", e.ID)
	}
	if len(e.Causes) > 0 {
		b.WriteString(": " + strings.Join(e.Causes, "; "))
	}
	if e.URL != "" {
		b.WriteString(" [GET " + e.URL + "]")
	}
	if h := e.hint(); h != "" {
		b.WriteString(": " + h)
	}
	return b.String()
}

// hint says what an admin can do about the errors that stop an input.
func (e *APIError) hint() string {
	switch e.StatusCode {
	case 401:
		return "the API token was revoked, has expired (Okta deactivates a token unused for 30 days) or belongs to another org: create a new API token in Okta Admin > Security > API > Tokens"
	case 403:
		return "the token's admin lacks permission to read the System Log (give it the Read-only Administrator role), or an OAuth token lacks the okta.logs.read scope"
	case 404:
		return "no System Log API at this address: check the org URL"
	case 429:
		return "rate limit reached: another client may be using the org's limit"
	}
	return ""
}

// Temporary reports whether the same request may succeed later: 408, 429 and 5xx.
func (e *APIError) Temporary() bool {
	return e.StatusCode == 408 || e.StatusCode == 429 || e.StatusCode >= 500
}

// oktaErrorBody is the JSON Okta sends with an error status.
type oktaErrorBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorID      string `json:"errorId"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

// newAPIError builds the error for status from the (already size-limited) body.
func newAPIError(status int, body []byte, pathQuery string) *APIError {
	e := &APIError{StatusCode: status, URL: pathQuery}
	var ob oktaErrorBody
	if json.Unmarshal(body, &ob) == nil && (ob.ErrorCode != "" || ob.ErrorSummary != "") {
		e.Code = oneLine(ob.ErrorCode, 40)
		e.Summary = oneLine(ob.ErrorSummary, 300)
		e.ID = oneLine(ob.ErrorID, 80)
		for _, c := range ob.ErrorCauses {
			if len(e.Causes) == 5 {
				break
			}
			if s := oneLine(c.ErrorSummary, 200); s != "" {
				e.Causes = append(e.Causes, s)
			}
		}
		return e
	}
	e.Summary = oneLine(string(body), 120)
	if e.Summary != "" {
		e.Summary = "body: " + e.Summary
	}
	return e
}

// oneLine makes outside text safe for a log line: valid UTF-8, control characters as spaces,
// runs of space collapsed, at most n bytes.
func oneLine(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
