package okta

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Query is what a System Log request asks for.
type Query struct {
	Since, Until time.Time // Until only in bounded queries
	Limit        int       // events per page, 1 to 1000
	Filter       string    // SCIM filter expression
	Q            string    // keywords
}

// Okta's documented bounds on a query.
const (
	MaxLimit    = 1000
	maxQTerms   = 10
	maxQTermLen = 40
)

// Validate checks the query against Okta's documented bounds; its errors name the parameter.
func (q Query) Validate() error {
	var errs []error
	if q.Limit < 1 || q.Limit > MaxLimit {
		errs = append(errs, fmt.Errorf("limit: want 1 to %d events per page, got %d", MaxLimit, q.Limit))
	}
	terms := strings.Fields(q.Q)
	if len(terms) > maxQTerms {
		errs = append(errs, fmt.Errorf("q: Okta takes at most %d keywords, got %d", maxQTerms, len(terms)))
	}
	for _, t := range terms {
		if n := utf8.RuneCountInString(t); n > maxQTermLen {
			errs = append(errs, fmt.Errorf("q: keyword %q is %d characters; Okta takes at most %d", clip(t, 50), n, maxQTermLen))
		}
	}
	if strings.ContainsAny(q.Filter, "\r\n") {
		errs = append(errs, errors.New("filter: must be on one line"))
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		errs = append(errs, fmt.Errorf("until (%s) must be after since (%s)", formatTime(q.Until), formatTime(q.Since)))
	}
	return errors.Join(errs...)
}

// formatTime is the form Okta documents for since and until: RFC 3339, milliseconds, UTC.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
