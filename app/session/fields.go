package session

import (
	"fmt"
	"strconv"
	"unsafe"
)

// CompactFields names, in order, the fields Event.Compact writes and FromFields reads back: the
// whole Event as a handful of single-valued string fields, for a map phase that ships no _raw.
var CompactFields = []string{
	"os_time", "os_uuid", "os_type", "os_actor_id", "os_actor_type", "os_actor_login", "os_actor_name",
	"os_target_id", "os_target_login", "os_app", "os_ip", "os_ua", "os_session", "os_result",
	"os_reason", "os_factor",
	// The per-sequence signals (issue 12), after the fields above so that their positions stay.
	"os_txn", "os_behaviors", "os_dt_hash", "os_risk", "os_country", "os_city", "os_asn", "os_isp", "os_proxy",
}

// Compact returns the Event's values in CompactFields order; Time is epoch milliseconds.
func (e *Event) Compact() []string {
	t := ""
	if e.Time != 0 {
		t = strconv.FormatInt(e.Time, 10)
	}
	return append([]string{t}, compactStrings(e)[:]...)
}

// WriteCompact writes the cells Compact returns, buf being scratch space for the time; it
// returns buf for reuse.
func (e *Event) WriteCompact(w CellWriter, buf []byte) []byte {
	buf = buf[:0]
	if e.Time != 0 {
		buf = strconv.AppendInt(buf, e.Time, 10)
	}
	w.ValueBytes(buf)
	for _, v := range compactStrings(e) {
		w.Value(v)
	}
	return buf
}

// Positions in RowFields of the fields FromRow reads.
const (
	fType = iota
	fUUID
	fActorID
	fActorType
	fActorLogin
	fActorName
	fIP
	fUA
	fSession
	fResult
	fReason
	fFactor
	// The signals (issue 12): single-valued like the fields above.
	fTxn
	fBehaviors
	fDTHash
	fRisk
	fCountry
	fCity
	fASN
	fISP
	fProxy
	fLogOnly // debugData.logOnlySecurityData: the behaviors and risk when debugData has none
	fTargetType
	fTargetID
	fTargetLogin
	fTargetName
	fPublished
	fTime
	fCompact // CompactFields start here
)

// fOSType is os_type's position in RowFields: a row with a value there is a compact record.
const fOSType = fCompact + 2

// RowFields names the fields a Row serves, by position: Splunk's names for the Okta fields,
// then CompactFields.
var RowFields = append([]string{
	"eventType", "uuid", "actor.id", "actor.type", "actor.alternateId", "actor.displayName",
	"client.ipAddress", "client.userAgent.rawUserAgent", "authenticationContext.externalSessionId",
	"outcome.result", "outcome.reason", "debugContext.debugData.factor",
	"transaction.id", "debugContext.debugData.behaviors", "debugContext.debugData.dtHash",
	"debugContext.debugData.risk", "client.geographicalContext.country", "client.geographicalContext.city",
	"securityContext.asNumber", "securityContext.isp", "securityContext.isProxy",
	"debugContext.debugData.logOnlySecurityData",
	"target{}.type", "target{}.id", "target{}.alternateId", "target{}.displayName",
	"published", "_time",
}, CompactFields...)

// Row is one Splunk row as FromRow reads it.
type Row interface {
	// Values appends the values of field f (a position in RowFields) to dst, none when the
	// row lacks it. The bytes must stay unchanged until FromRow returns.
	Values(f int, dst [][]byte) [][]byte
}

// numCompact is len(CompactFields), numRowFields len(RowFields) (TestFieldCounts).
const (
	numCompact   = 25
	numRowFields = fCompact + numCompact
)

// Columns locates the fields of RowFields among the cells of the rows FromCells reads.
type Columns struct {
	at [numRowFields]struct{ plain, mv int }
	// Worked out once per chunk by Bind, for FromRow's plain-cell path.
	single []fieldCell // the single-valued Okta fields (fType to fLogOnly, fPublished, fTime) with a plain cell
	mvs    []int       // the __mv_ cells of those fields and of os_type
	// The same for the compact fields, for the reduce's rows.
	compact    []fieldCell
	compactMVs []int
}

// Bind sets the columns from index, which returns the columns of a field's plain and __mv_
// cells (-1 when absent) by name.
func (c *Columns) Bind(index func(name string) (plain, mv int)) {
	c.single, c.mvs = c.single[:0], c.mvs[:0]
	c.compact, c.compactMVs = c.compact[:0], c.compactMVs[:0]
	for f, name := range RowFields {
		p, m := index(name)
		c.at[f].plain, c.at[f].mv = p, m
		if f >= fCompact {
			if p >= 0 {
				c.compact = append(c.compact, fieldCell{f, p, lowCardinality[f]})
			}
			if m >= 0 {
				c.compactMVs = append(c.compactMVs, m)
			}
		}
		switch {
		case singleValued(f):
			if p >= 0 {
				c.single = append(c.single, fieldCell{f, p, lowCardinality[f]})
			}
			if m >= 0 {
				c.mvs = append(c.mvs, m)
			}
		case f == fOSType && m >= 0:
			c.mvs = append(c.mvs, m)
		}
	}
}

// fieldCell is a field (a position in RowFields), the column of its plain cell, and whether
// the field has few values (lowCardinality), noted once per chunk rather than looked up for
// every cell (FromRow: 7.5M fewer instructions on 200 000 rows of the fields-only stream).
type fieldCell struct {
	f, cell int
	low     bool
}

// singleValued reports whether FromRow reads field f as one value (target{}.* are lists).
func singleValued(f int) bool {
	return f < fTargetType || f == fPublished || f == fTime
}

// plainOnly reports whether every single-valued Okta field of the row is its plain cell: no
// compact record (os_type empty), no multivalue (Splunk leaves the __mv_ cell of a single
// value empty).
func (c *Columns) plainOnly(cells [][]byte) bool {
	if p := c.at[fOSType].plain; p >= 0 && len(cells[p]) > 0 {
		return false
	}
	n := 0
	for _, m := range c.mvs {
		n |= len(cells[m]) // one test for the row, not one per cell
	}
	return n == 0
}

// compactOnly reports whether the row is a compact record whose fields are all their plain
// cells (none has a multivalue).
func (c *Columns) compactOnly(cells [][]byte) bool {
	if p := c.at[fOSType].plain; p < 0 || len(cells[p]) == 0 {
		return false
	}
	n := 0
	for _, m := range c.compactMVs {
		n |= len(cells[m])
	}
	return n == 0
}

// lowCardinality marks the fields (by position in RowFields) with a handful of distinct
// values: they are shared through a small cache per field instead of copied per row. Other
// values (users, addresses, sessions) point into the row: Engine.Add copies what it keeps.
var lowCardinality = func() (m [numRowFields]bool) {
	for _, f := range []int{fType, fActorType, fUA, fResult, fReason, fFactor, fTargetName, fBehaviors, fRisk, fProxy,
		fCompact + 2, fCompact + 4, fCompact + 9, fCompact + 11, fCompact + 13, fCompact + 14, fCompact + 15,
		fCompact + 17, fCompact + 19, fCompact + 24} {
		m[f] = true
	}
	return m
}()

// strCacheSlots is how many values a field's cache holds, each in the slot its length and
// outer bytes pick: results and actor types have a handful of values, and a round-robin of
// four copied each value again when five or more took turns.
const strCacheSlots = 16

// strCache holds a field's recent values.
type strCache [strCacheSlots]string

// Extractor fills Events from rows without copying them: an Event's strings point into the
// row's bytes (valid until those change; Engine.Add copies them), except the values of
// low-cardinality fields (event types, results, user agents), shared from a small cache. The
// zero value is ready to use; an Extractor is not safe for concurrent use.
type Extractor struct {
	cache [numRowFields]strCache
	vals  [4][][]byte
	// The current row's cells and columns when FromCells reads it, cols nil for FromRow.
	cells [][]byte
	cols  *Columns
	types [typeLists]typeList // recent target{}.type multivalues of rows read by FromCells
	next  int                 // the entry of types to replace
	sig   []byte              // the behaviors being normalized
}

// typeLists is how many target{}.type multivalues an Extractor keeps: Okta logs a handful
// of target combinations (apps and their users, policies and their rules).
const typeLists = 4

// typeList is a target{}.type multivalue: copies of its plain and __mv_ cells and of the
// values Values returned for them.
type typeList struct {
	plain, mv, buf []byte
	types          [][]byte // in buf
}

// str returns field f's value b as a string: from the field's cache when it has few values,
// else a view of b.
func (x *Extractor) str(f int, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if !lowCardinality[f] {
		return view(b)
	}
	return x.cached(f, b)
}

// cached returns the non-empty value b of low-cardinality field f from the field's cache.
func (x *Extractor) cached(f int, b []byte) string {
	slot := &x.cache[f][(uint(len(b))*7+uint(b[0])+uint(b[len(b)-1])*3)%strCacheSlots]
	if *slot == string(b) {
		return *slot
	}
	*slot = string(b)
	return *slot
}

// cell returns field f's plain cell and true when FromCells reads the row and f holds at most
// one value; false sends the caller to the Row's Values.
func (x *Extractor) cell(f int) ([]byte, bool) {
	c := x.cols
	if c == nil {
		return nil, false
	}
	if m := c.at[f].mv; m >= 0 && len(x.cells[m]) > 0 {
		return nil, false
	}
	if p := c.at[f].plain; p >= 0 {
		return x.cells[p], true
	}
	return nil, true
}

// values appends field f's values to dst, as r.Values does.
func (x *Extractor) values(r Row, f int, dst [][]byte) [][]byte {
	if v, ok := x.cell(f); ok {
		if len(v) > 0 {
			dst = append(dst, v)
		}
		return dst
	}
	return r.Values(f, dst)
}

// one returns the first value of field f that is not a "no value" spelling.
func (x *Extractor) one(r Row, f int) []byte {
	if v, ok := x.cell(f); ok {
		if isNone(view(v)) {
			return nil
		}
		return v
	}
	return x.firstValue(r, f)
}

// firstValue is one through the Row's Values.
func (x *Extractor) firstValue(r Row, f int) []byte {
	x.vals[0] = r.Values(f, x.vals[0][:0])
	for _, v := range x.vals[0] {
		if !isNone(view(v)) {
			return v
		}
	}
	return nil
}

// view looks at b as a string for the duration of a call that keeps no reference to it.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// FromRow fills e (except Ref) from one row, as FromFields does. e's strings may point into
// the row's bytes.
func (x *Extractor) FromRow(r Row, e *Event) error {
	x.cells, x.cols = nil, nil
	return x.fromRow(r, e)
}

// FromCells is FromRow for a row whose cells the caller holds, with cols locating the fields
// among them: a single-valued field (most of them) is read straight from its cell instead of
// through a call to r.Values. A field whose __mv_ cell is empty has the one value of its plain
// cell (none when that is empty), as Values would return it; Values still serves the others,
// and its values must depend on the field's two cells alone.
func (x *Extractor) FromCells(r Row, cells [][]byte, cols *Columns, e *Event) error {
	x.cells, x.cols = cells, cols
	return x.fromRow(r, e)
}

// fromRow is FromRow once the row's cells are bound.
func (x *Extractor) fromRow(r Row, e *Event) error {
	var t [3][]byte // the first values of published, _time and logOnlySecurityData, nil for none
	if c := x.cols; c != nil && c.compactOnly(x.cells) {
		// The reduce's row: each compact field straight from its cell (the reduce: 10%
		// fewer instructions than through Values, callgrind, realistic stream, 986 M ->
		// 890 M).
		return x.compactCells(e)
	}
	if c := x.cols; c != nil && c.plainOnly(x.cells) {
		// The common row: each field is its plain cell, read without a call per field and
		// skipping the fields the chunk lacks; its string is made here, so that few
		// values stay live across the calls that compare cached strings. FromRow and its
		// helpers went from 351M to 220M instructions on 200 000 rows of the fields-only
		// stream, with parseEpoch's and targets' own shortcuts.
		//
		// cells and single are locals: x.str's stores to the caches would otherwise make
		// the loop load them again for every field. The type is checked first, so that
		// the fields go straight to e, left as it was when the row is not Okta.
		cells, single := x.cells, c.single
		if p := c.at[fType].plain; p < 0 || isNone(view(cells[p])) {
			return fmt.Errorf("session: fields: %w", ErrNotOkta)
		}
		ref := e.Ref
		*e = Event{}
		e.Ref = ref
		for _, fc := range single {
			f, b := fc.f, cells[fc.cell]
			switch {
			case isNone(view(b)):
			case fc.low:
				*eventField(e, f) = x.cached(f, b)
			case f <= fProxy:
				*eventField(e, f) = view(b)
			case f == fLogOnly:
				t[2] = b
			default:
				t[f-fPublished] = b
			}
		}
	} else {
		x.vals[0] = x.values(r, fOSType, x.vals[0][:0])
		if len(x.vals[0]) > 0 && len(x.vals[0][0]) > 0 {
			return x.fromCompact(r, e)
		}
		// ev gets the strings, copied to e once it has a type.
		var ev Event
		for f := range fProxy + 1 {
			*eventField(&ev, f) = x.str(f, x.one(r, f))
		}
		if ev.Type == "" {
			return fmt.Errorf("session: fields: %w", ErrNotOkta)
		}
		ev.Ref = e.Ref
		*e = ev
		t[0], t[1], t[2] = x.one(r, fPublished), x.one(r, fTime), x.one(r, fLogOnly)
	}
	x.signals(e, t[2])
	x.targets(r, e)
	if p := t[0]; p != nil {
		if ms, err := parsePublished(view(p)); err == nil {
			e.Time = ms
		}
	}
	if p := t[1]; e.Time == 0 && p != nil {
		ms, err := parseEpoch(p)
		if err != nil {
			return fmt.Errorf("session: fields: %w", err)
		}
		e.Time = ms
	}
	return nil
}

// eventFields holds the offset in Event of the string field of each RowFields position up
// to fProxy.
var eventFields = func() (o [fProxy + 1]uintptr) {
	var e Event
	for f, p := range [fProxy + 1]*string{
		fType: &e.Type, fUUID: &e.UUID, fActorID: &e.ActorID, fActorType: &e.ActorType,
		fActorLogin: &e.ActorLogin, fActorName: &e.ActorName, fIP: &e.IP, fUA: &e.UserAgent,
		fSession: &e.SessionID, fResult: &e.Result, fReason: &e.Reason, fFactor: &e.Factor,
		fTxn: &e.TransactionID, fBehaviors: &e.Behaviors, fDTHash: &e.DTHash, fRisk: &e.Risk,
		fCountry: &e.Country, fCity: &e.City, fASN: &e.ASN, fISP: &e.ISP, fProxy: &e.Proxy,
	} {
		o[f] = uintptr(unsafe.Pointer(p)) - uintptr(unsafe.Pointer(&e))
	}
	return o
}()

// eventField returns the string field of e that RowFields position f (at most fProxy)
// fills: FromRow sets the fields by position straight into e on its plain-cell path, rather
// than into an array copied to e through a temporary (FromRow: 22M fewer instructions on
// 200 000 rows of the fields-only stream, with the locals in its plain-cell loop). It is
// sound as every offset in eventFields is that of a string field of Event, and e points to
// a whole Event.
func eventField(e *Event, f int) *string {
	return (*string)(unsafe.Add(unsafe.Pointer(e), eventFields[f]))
}

// signals normalizes the signals FromRow read as logged: the positive behaviors' names, the
// risk level, the proxy flag; logOnly (logOnlySecurityData) stands in for the behaviors and
// the risk when the row has none.
func (x *Extractor) signals(e *Event, logOnly []byte) {
	if e.Behaviors == "" && e.Risk == "" && e.Proxy == "" && logOnly == nil {
		return // most events: nothing to normalize
	}
	if lo := view(logOnly); lo != "" && !isNone(lo) {
		if e.Behaviors == "" {
			e.Behaviors = lo
		}
		if e.Risk == "" {
			e.Risk = lo
		}
	}
	e.Risk, e.Proxy = RiskLevel(e.Risk), Proxy(e.Proxy)
	if e.Behaviors != "" {
		x.sig = AppendBehaviors(x.sig[:0], e.Behaviors)
		e.Behaviors = x.str(fBehaviors, x.sig)
	}
}

// targets fills the target fields of e from the row's target{}.* lists.
func (x *Extractor) targets(r Row, e *Event) {
	// Splunk lists target{}.* as parallel multivalues, which line up only when every target
	// has the member; misaligned lists are read only where the guess below is safe.
	types := x.targetTypes(r)
	if len(types) == 0 {
		return
	}
	users, named := 0, false
	for _, t := range types {
		switch {
		case string(t) == "User":
			users++
		case string(t) == "AppInstance" || isAuthenticator(view(t)):
			named = true
		}
	}
	// The other lists are read only for the types that use them: most targets are policies
	// and app users, whose ids nothing reads (FromRow: 38M fewer instructions on 200 000
	// rows of the fields-only stream).
	var ids, logins, names [][]byte
	if users > 0 {
		ids = x.values(r, fTargetID, x.vals[1][:0])
		logins = x.values(r, fTargetLogin, x.vals[2][:0])
		x.vals[1], x.vals[2] = ids, logins
	}
	if named {
		names = x.values(r, fTargetName, x.vals[3][:0])
		x.vals[3] = names
	}
	at := func(vals [][]byte, i int) []byte {
		var v []byte
		switch {
		case len(vals) == len(types):
			v = vals[i]
		case len(vals) == 1 && users == 1 && string(types[i]) == "User":
			// One value for one User target among targets that lack the member: most
			// likely the User's, as Okta omits ids of apps and policies more often than
			// of users.
			v = vals[0]
		}
		if isNone(view(v)) {
			return nil
		}
		return v
	}
	for i, t := range types {
		switch {
		case string(t) == "User" && e.TargetID == "" && at(ids, i) != nil:
			e.TargetID, e.TargetLogin = x.str(fTargetID, at(ids, i)), x.str(fTargetLogin, at(logins, i))
		case string(t) == "AppInstance" && e.App == "":
			e.App = x.str(fTargetName, at(names, i))
		case isAuthenticator(view(t)) && e.Factor == "":
			e.Factor = x.str(fTargetName, at(names, i))
		}
	}
}

// targetTypes returns the values of target{}.type, to read only. The multivalues of the
// rows FromCells reads come from x.types when their cells were seen lately: decoding one through
// Values cost ~400 instructions, and a chunk has a handful of distinct ones (FromRow: 17.6M
// fewer instructions on 200 000 rows of the fields-only stream).
func (x *Extractor) targetTypes(r Row) [][]byte {
	c := x.cols
	if c == nil || c.at[fTargetType].mv < 0 || len(x.cells[c.at[fTargetType].mv]) == 0 {
		x.vals[0] = x.values(r, fTargetType, x.vals[0][:0])
		return x.vals[0]
	}
	mv, plain := x.cells[c.at[fTargetType].mv], []byte(nil)
	if p := c.at[fTargetType].plain; p >= 0 {
		plain = x.cells[p]
	}
	for i := range x.types {
		if t := &x.types[i]; string(t.mv) == string(mv) && string(t.plain) == string(plain) {
			return t.types
		}
	}
	x.vals[0] = r.Values(fTargetType, x.vals[0][:0])
	t := &x.types[x.next]
	x.next = (x.next + 1) % typeLists
	t.mv, t.plain, t.buf, t.types = append(t.mv[:0], mv...), append(t.plain[:0], plain...), t.buf[:0], t.types[:0]
	for _, v := range x.vals[0] {
		t.buf = append(t.buf, v...)
	}
	off := 0
	for _, v := range x.vals[0] {
		t.types = append(t.types, t.buf[off:off+len(v):off+len(v)])
		off += len(v)
	}
	return t.types
}

// fromCompact reads the fields Event.Compact wrote.
func (x *Extractor) fromCompact(r Row, e *Event) error {
	ref := e.Ref
	*e = Event{Ref: ref}
	for i := range CompactFields {
		x.vals[0] = x.values(r, fCompact+i, x.vals[0][:0])
		if len(x.vals[0]) > 0 {
			if err := x.compactField(e, fCompact+i, x.vals[0][0]); err != nil {
				return err
			}
		}
	}
	compactSignals(e)
	return nil
}

// compactCells is fromCompact for a row whose compact fields are their plain cells.
func (x *Extractor) compactCells(e *Event) error {
	ref := e.Ref
	*e = Event{Ref: ref}
	for _, fc := range x.cols.compact {
		if err := x.compactField(e, fc.f, x.cells[fc.cell]); err != nil {
			return err
		}
	}
	compactSignals(e)
	return nil
}

// compactSignals normalizes the risk and proxy of a compact record, as the map phase wrote
// them or as anyone else did.
func compactSignals(e *Event) {
	if e.Risk != "" {
		e.Risk = RiskLevel(e.Risk)
	}
	if e.Proxy != "" {
		e.Proxy = Proxy(e.Proxy)
	}
}

// compactField sets the Event field that compact field f (a position in RowFields) holds.
func (x *Extractor) compactField(e *Event, f int, b []byte) error {
	switch i := f - fCompact; {
	case isNone(view(b)):
	case i == 0:
		t, ok := parseMillis(b)
		if !ok {
			// What parseMillis leaves (a sign, 19 digits) is read as strconv reads it.
			var err error
			if t, err = strconv.ParseInt(view(b), 10, 64); err != nil {
				return fmt.Errorf("session: fields: os_time %q: %w", truncate(string(b)), errTimestamp)
			}
		}
		e.Time = t
	default:
		*compactEventField(e, i) = x.str(f, b)
	}
	return nil
}

// compactEventField returns the string field of e that CompactFields position i (from 1)
// holds.
func compactEventField(e *Event, i int) *string { return &compactStrings(e)[i-1] }

// compactStrings returns e's string fields after Time, UUID to Proxy: CompactFields from
// position 1 in order, the layout of Event (TestCompactStrings). Compact, WriteCompact and the
// records read and write them by index: ReadRecord, a loop without a table lookup per field (callgrind, realistic stream, reduce, with
// AppendCompactRecord's one-byte lengths: 1 413 M -> 1 364 M); it is sound as they are
// contiguous fields of the one Event e points to.
func compactStrings(e *Event) *[numCompact - 1]string {
	return (*[numCompact - 1]string)(unsafe.Pointer(&e.UUID))
}

// parseMillis reads os_time as Compact writes it: a decimal number of milliseconds (negative
// before 1970) of at most 18 digits, as strconv.ParseInt would, in a tenth of its
// instructions; false for anything else (compactField then asks strconv).
func parseMillis(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var t int64
	for _, c := range b {
		if c-'0' > 9 {
			return 0, false
		}
		t = t*10 + int64(c-'0')
	}
	if neg {
		t = -t
	}
	return t, true
}

// FromFields fills e (except Ref) from one Splunk row, get returning a field's values (nil
// when absent). It reads the compact fields when os_type is present, otherwise Splunk's own
// extracted names (eventType, actor.id, target{}.type, ...). published is preferred to _time.
// Errors wrap ErrNotOkta when there is no eventType. A command reading many rows should use
// an Extractor and a Row instead: it allocates far less.
func FromFields(get func(name string) []string, e *Event) error {
	var x Extractor
	return x.FromRow(getterRow(get), e)
}

// getterRow serves a Row from a getter by name.
type getterRow func(name string) []string

func (g getterRow) Values(f int, dst [][]byte) [][]byte {
	for _, v := range g(RowFields[f]) {
		dst = append(dst, []byte(v))
	}
	return dst
}
