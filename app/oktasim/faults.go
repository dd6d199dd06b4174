package oktasim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// FaultKind is a way a response can go wrong.
type FaultKind string

// The faults a Server can inject.
const (
	FaultServerError FaultKind = "500"      // 500 E0000009, as when Okta's query times out
	FaultUnavailable FaultKind = "503"      // 503 with an HTML body, as from a load balancer
	FaultTruncate    FaultKind = "truncate" // 200, a valid prefix of the page, then the connection is cut
	FaultInvalidJSON FaultKind = "badjson"  // 200 with a body that is not JSON
	FaultSlow        FaultKind = "slow"     // the normal response after Options.SlowDelay
	FaultConcurrency FaultKind = "429"      // 429 of the concurrency limit: Limit 0, Remaining 0
	FaultRevoked     FaultKind = "401"      // 401 E0000011, as for a token revoked mid-run
)

var faultKinds = []FaultKind{FaultServerError, FaultUnavailable, FaultTruncate, FaultInvalidJSON, FaultSlow, FaultConcurrency, FaultRevoked}

// Fault is one injected failure: with Probability per request, or on the requests numbered
// From to To (1-based, as counted in Stats.Requests; To 0 means From only).
type Fault struct {
	Kind        FaultKind
	Probability float64
	From, To    int
}

// ErrFaultSpec is wrapped by ParseFaults' errors.
var ErrFaultSpec = errors.New("invalid fault spec")

// ParseFaults reads a comma-separated fault list: "kind:probability" (500:0.05) or
// "kind@n" / "kind@n-m" for request numbers (truncate@3, 503@5-7). Kinds: 500, 503,
// truncate, badjson, slow, 429, 401. An empty spec is no faults.
func ParseFaults(spec string) ([]Fault, error) {
	var out []Fault
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		f, err := parseFault(item)
		if err != nil {
			return nil, fmt.Errorf("oktasim: fault %q: %w", item, err)
		}
		out = append(out, f)
	}
	return out, nil
}

func parseFault(item string) (Fault, error) {
	kind, prob, isProb := strings.Cut(item, ":")
	var sched string
	if !isProb {
		var ok bool
		kind, sched, ok = strings.Cut(item, "@")
		if !ok {
			return Fault{}, fmt.Errorf("want kind:probability or kind@request: %w", ErrFaultSpec)
		}
	}
	f := Fault{Kind: FaultKind(kind)}
	if !validKind(f.Kind) {
		return Fault{}, fmt.Errorf("unknown kind %q (want one of %v): %w", kind, faultKinds, ErrFaultSpec)
	}
	if isProb {
		p, err := strconv.ParseFloat(prob, 64)
		if err != nil || !(p > 0 && p <= 1) {
			return Fault{}, fmt.Errorf("probability %q not in (0, 1]: %w", prob, ErrFaultSpec)
		}
		f.Probability = p
		return f, nil
	}
	from, to, isRange := strings.Cut(sched, "-")
	var err error
	if f.From, err = strconv.Atoi(from); err != nil || f.From < 1 {
		return Fault{}, fmt.Errorf("request number %q: want an integer >= 1: %w", from, ErrFaultSpec)
	}
	if isRange {
		if f.To, err = strconv.Atoi(to); err != nil || f.To < f.From {
			return Fault{}, fmt.Errorf("request range end %q: want an integer >= %d: %w", to, f.From, ErrFaultSpec)
		}
	}
	return f, nil
}

func validKind(k FaultKind) bool {
	for _, v := range faultKinds {
		if v == k {
			return true
		}
	}
	return false
}

// String writes f in ParseFaults' syntax.
func (f Fault) String() string {
	switch {
	case f.From > 0 && f.To > f.From:
		return fmt.Sprintf("%s@%d-%d", f.Kind, f.From, f.To)
	case f.From > 0:
		return fmt.Sprintf("%s@%d", f.Kind, f.From)
	default:
		return string(f.Kind) + ":" + strconv.FormatFloat(f.Probability, 'g', -1, 64)
	}
}

// hits reports whether the scheduled fault covers request n.
func (f Fault) hits(n int64) bool {
	if f.From <= 0 {
		return false
	}
	to := f.To
	if to < f.From {
		to = f.From
	}
	return n >= int64(f.From) && n <= int64(to)
}
