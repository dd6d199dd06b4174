package session

import "strconv"

// Status values of a sequence.
const (
	StatusSuccess    = "success"    // the flow reached its terminal step
	StatusFailure    = "failure"    // its last step failed and nothing recovered
	StatusDenied     = "denied"     // a sign-on policy or an app denied it
	StatusIncomplete = "incomplete" // it stopped before its terminal step
)

// SequenceFields names the fields of a mode=sequences row, in output order.
var SequenceFields = []string{
	"_time", "seq_id", "flow", "status", "cut", "stopped_at", "missing", "user_id", "user", "session_id",
	"src_ip", "user_agent", "app", "channel", "start", "end", "duration", "event_count", "steps",
	"mfa_factors", "mfa_sent", "mfa_verified", "mfa_enrolled", "mfa_failed", "policy_result", "risk",
	"behaviors", "dt_hash", "country", "city", "asn", "isp", "proxy", "reasons", "uuids",
}

// CutStart is the cut field of a sequence whose first documented step may lie before the
// search's earliest time.
const CutStart = "start"

// EventFields names the fields mode=events adds to every input row, in output order. The
// sequence's status is seq_status: status is the input's own (the app's CIM mapping sets it on
// every Okta event) and passes through untouched.
var EventFields = []string{"seq_id", "flow", "seq_step", "seq_status"}

// Sequence is one reconstructed flow. The engine reuses it and its slices: a callback that
// keeps it must copy it (Clone).
type Sequence struct {
	ID          string
	Flow        Flow
	Status      string
	StoppedAt   string   // eventType of the last step when Status is not success
	Missing     []string // required steps not seen (a send step as password_reset_send / account_unlock_send)
	UserID      string
	User        string
	SessionID   string
	SrcIP       []string // distinct, in time order
	UserAgent   []string // distinct, in time order
	App         string   // app_signin only
	Channel     string   // email, sms or voice, for sspr and unlock
	Start, End  int64    // milliseconds since the epoch
	EventCount  int
	Steps       []string // eventTypes in time order
	MFAFactors  []string // distinct Okta factor names, in time order
	MFASent     int
	MFAVerified int // user.authentication.auth_via_mfa that succeeded
	MFAEnrolled int // user.mfa.factor.activate that succeeded: an enrolment, not a verification
	MFAFailed   int
	Reasons     []string // distinct outcome.reason of failed or denied steps
	UUIDs       []string

	// Cut is CutStart when the flow's first documented step is missing and its first event
	// is less than MaxSpan after Options.Earliest: the step may lie before the search's range.
	Cut string
	// PolicyResult is the outcome.result of the flow's sign-on policy evaluations (the Okta
	// sign-on policy for signin, the app's for app_signin): the strictest when there are
	// several, DENY over CHALLENGE over ALLOW.
	PolicyResult string
	Risk         string   // the highest debugData.risk level: LOW, MEDIUM or HIGH
	Behaviors    []string // distinct POSITIVE behaviors (New IP, New Device, ...), in time order
	DTHash       []string // distinct debugData.dtHash, in time order
	Country      []string // distinct client countries, in time order
	City         []string // distinct client cities, in time order
	ASN          []string // distinct securityContext.asNumber, in time order
	ISP          []string // distinct securityContext.isp, in time order
	Proxy        string   // "true" when an event came through a proxy (securityContext.isProxy)

	buf   []byte       // WriteCells' scratch for numbers
	bytes bytesDecimal // WriteCells' numbers for a CellWriter that does not write them itself
	plain plainShared  // WriteCells' lists for a CellWriter that does not share them
}

// Clone returns a copy that shares nothing with the engine.
func (s *Sequence) Clone() *Sequence {
	c := *s
	c.buf, c.bytes, c.plain = nil, bytesDecimal{}, plainShared{}
	for _, p := range []*[]string{&c.Missing, &c.SrcIP, &c.UserAgent, &c.Steps, &c.MFAFactors, &c.Reasons, &c.UUIDs,
		&c.Behaviors, &c.DTHash, &c.Country, &c.City, &c.ASN, &c.ISP} {
		*p = append([]string(nil), (*p)...)
	}
	return &c
}

// Fields returns the row in SequenceFields order: one slice per field, several values for a
// multivalue field, none for an empty one. Times are epoch seconds with milliseconds.
func (s *Sequence) Fields() [][]string {
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	num := func(n int) []string { return []string{strconv.Itoa(n)} }
	stopped := ""
	if s.Status != StatusSuccess {
		stopped = s.StoppedAt
	}
	return [][]string{
		one(formatEpoch(s.Start)), one(s.ID), one(s.Flow.String()), one(s.Status), one(s.Cut), one(stopped),
		s.Missing, one(s.UserID), one(s.User), one(s.SessionID), s.SrcIP, s.UserAgent, one(s.App),
		one(s.Channel), one(formatEpoch(s.Start)), one(formatEpoch(s.End)), one(formatEpoch(s.End - s.Start)),
		num(s.EventCount), s.Steps, s.MFAFactors, num(s.MFASent), num(s.MFAVerified), num(s.MFAEnrolled),
		num(s.MFAFailed), one(s.PolicyResult), one(s.Risk), s.Behaviors, s.DTHash, s.Country, s.City,
		s.ASN, s.ISP, one(s.Proxy), s.Reasons, s.UUIDs,
	}
}

// Assignment tells mode=events which sequence an input event joined.
type Assignment struct {
	SeqID  string
	Flow   Flow
	Step   int // 1-based position in the sequence's time order
	Status string
}

// Stats counts what the engine did with its input.
type Stats struct {
	Events    int // events passed to Add
	Sequenced int // events that joined a sequence of any flow
	Ignored   int // events of a type no flow uses
	NoTime    int // events without a timestamp
	NoKey     int // events without the key (user, session or ip): dropped from sequencing
	Unowned   int // user.account.update_password outside a reset: an ordinary password change
	Late      int // events further out of order than Options.Disorder
	Forced    int // keys sequenced in pieces because they exceeded Options.MaxKeyEvents
	// Passes counts passes over keys still active (oldest first; see Engine): they change
	// when work is done, not its result, so golden results leave them out.
	Passes    int `json:"-"`
	Sequences int // sequences emitted (selected flows only)
}

// CellWriter receives the cells of one output row in field order (scp.RowWriter is one):
// Value for a single value ("" is an empty cell), ValueBytes for a value in scratch bytes,
// Values for a cell of any number of values.
type CellWriter interface {
	Value(v string)
	ValueBytes(v []byte)
	Values(vs []string)
}

// sharedValuer is a CellWriter that remembers the cells of lists that recur from row to row
// (scp.RowWriter's SharedValues), given the same strings: the step and missing lists, whose
// names are the classes' constants.
type sharedValuer interface {
	SharedValues(vs []string)
}

// decimalWriter is a CellWriter that writes numbers itself (scp.RowWriter's Decimal): v/10^scale
// with scale digits after the point.
type decimalWriter interface {
	Decimal(v int64, scale int)
}

// WriteCells writes the row Fields returns, cell by cell, without building it: the fast path
// for a command that streams sequences into its reply.
func (s *Sequence) WriteCells(w CellWriter) {
	shared, ok := w.(sharedValuer)
	if !ok {
		s.plain = plainShared{w}
		shared = &s.plain
	}
	// A negative time (never from the engine) goes through appendEpoch, whose form Decimal
	// need not copy; when all four times are not negative, so is the duration.
	dw, ok := w.(decimalWriter)
	if !ok || s.Start < 0 || s.End < s.Start {
		s.bytes = bytesDecimal{w: w, buf: &s.buf}
		dw = &s.bytes
	}
	stopped := ""
	if s.Status != StatusSuccess {
		stopped = s.StoppedAt
	}
	dw.Decimal(s.Start, 3)
	w.Value(s.ID)
	w.Value(s.Flow.String())
	w.Value(s.Status)
	w.Value(s.Cut)
	w.Value(stopped)
	shared.SharedValues(s.Missing)
	w.Value(s.UserID)
	w.Value(s.User)
	w.Value(s.SessionID)
	w.Values(s.SrcIP)
	w.Values(s.UserAgent)
	w.Value(s.App)
	w.Value(s.Channel)
	dw.Decimal(s.Start, 3)
	dw.Decimal(s.End, 3)
	dw.Decimal(s.End-s.Start, 3)
	dw.Decimal(int64(s.EventCount), 0)
	shared.SharedValues(s.Steps)
	w.Values(s.MFAFactors)
	dw.Decimal(int64(s.MFASent), 0)
	dw.Decimal(int64(s.MFAVerified), 0)
	dw.Decimal(int64(s.MFAEnrolled), 0)
	dw.Decimal(int64(s.MFAFailed), 0)
	w.Value(s.PolicyResult)
	w.Value(s.Risk)
	w.Values(s.Behaviors)
	w.Values(s.DTHash)
	w.Values(s.Country)
	w.Values(s.City)
	w.Values(s.ASN)
	w.Values(s.ISP)
	w.Value(s.Proxy)
	w.Values(s.Reasons)
	w.Values(s.UUIDs)
}

// plainShared is a sharedValuer that writes every list through Values: WriteCells calls
// SharedValues through an interface, not a method value's wrapper.
type plainShared struct{ w CellWriter }

// SharedValues writes vs as Values does.
func (p *plainShared) SharedValues(vs []string) { p.w.Values(vs) }

// bytesDecimal is a decimalWriter through a CellWriter's ValueBytes, for the times as
// formatEpoch writes them (scale 3) and for counts (scale 0), the only numbers of a row.
// WriteCells calls Decimal without a test per number of which writer to use: 9 a row.
type bytesDecimal struct {
	w   CellWriter
	buf *[]byte // the Sequence's
}

// Decimal writes v at scale 3 as a time, at any other scale as an integer.
func (d *bytesDecimal) Decimal(v int64, scale int) {
	b := (*d.buf)[:0]
	if scale == 3 {
		b = appendEpoch(b, v)
	} else {
		b = strconv.AppendInt(b, v, 10)
	}
	*d.buf = b
	d.w.ValueBytes(b)
}
