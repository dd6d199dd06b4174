package session

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// cellsRow is a row for FromCells laid out as a Splunk chunk lays out a row: a plain cell per field
// (values joined by newlines) and, for some fields, an __mv_ cell that is empty for a single
// value. Its columns are shuffled and some fields lack the __mv_ column.
type cellsRow struct {
	cells  [][]byte
	cols   Columns
	values map[string][]string
}

func newCellsRow(r *rand.Rand, values map[string][]string) *cellsRow {
	c := &cellsRow{values: values}
	type col struct {
		f  int
		mv bool
	}
	var layout []col
	for f := range RowFields {
		if r.IntN(8) == 0 && len(values[RowFields[f]]) == 0 {
			continue // the chunk lacks the field
		}
		layout = append(layout, col{f, false})
		if len(values[RowFields[f]]) > 1 || r.IntN(4) > 0 {
			layout = append(layout, col{f, true})
		}
	}
	r.Shuffle(len(layout), func(i, j int) { layout[i], layout[j] = layout[j], layout[i] })
	plain, mv := map[int]int{}, map[int]int{}
	for i, l := range layout {
		vs := values[RowFields[l.f]]
		switch {
		case !l.mv:
			plain[l.f] = i
			c.cells = append(c.cells, []byte(strings.Join(vs, "\n")))
		case len(vs) > 1:
			mv[l.f] = i
			c.cells = append(c.cells, []byte("$"+strings.Join(vs, "$;$")+"$"))
		default:
			mv[l.f] = i
			c.cells = append(c.cells, []byte{})
		}
	}
	c.cols.Bind(func(name string) (int, int) {
		f := -1
		for i, n := range RowFields {
			if n == name {
				f = i
			}
		}
		p, ok := plain[f]
		if !ok {
			p = -1
		}
		m, ok := mv[f]
		if !ok {
			m = -1
		}
		return p, m
	})
	return c
}

func (c *cellsRow) Values(f int, dst [][]byte) [][]byte {
	for _, v := range c.values[RowFields[f]] {
		if v != "" || len(c.values[RowFields[f]]) > 1 {
			dst = append(dst, []byte(v))
		}
	}
	return dst
}

// read reads the row with FromCells.
func (c *cellsRow) read(x *Extractor, e *Event) error { return x.FromCells(c, c.cells, &c.cols, e) }

// TestFromRowCellsMatchesValues reads the same rows through their cells and through
// Values alone: the Events must be the same.
func TestFromRowCellsMatchesValues(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var fast, general Extractor
	rows := 0
	for _, f := range append(sampleFiles, "../scenarios/sspr.ndjson", "../scenarios/app_signin.ndjson", "../scenarios/signin_success_push.ndjson") {
		for i, line := range readLines(t, filepath.Join("testdata", "okta-samples", f)) {
			fields := flatten(line)
			fields["_time"] = []string{"1581711537.7"}
			var compact Event
			require.NoError(t, FromFields(func(n string) []string { return fields[n] }, &compact))
			for j, v := range compact.Compact() {
				if r.IntN(2) == 0 {
					fields[CompactFields[j]] = []string{v}
				}
			}
			if r.IntN(3) == 0 {
				fields["os_type"] = nil // read the Okta names, not the compact record
			}
			checkLayouts(t, r, &fast, &general, fields, fmt.Sprintf("%s:%d", f, i+1))
			rows += 3
		}
	}
	require.Greater(t, rows, 100)
}

// checkLayouts reads fields through three random layouts of cells (with FromCells, and with
// FromRow through their Values) and through a getter's Values: the Events must be the same,
// and so must what an error leaves of the Event filled before. It returns how many layouts
// FromCells read as plain cells.
func checkLayouts(t *testing.T, r *rand.Rand, fast, general *Extractor, fields map[string][]string, where string) (plain int) {
	t.Helper()
	for k := range 3 {
		row := newCellsRow(r, fields)
		stale := Event{Ref: 7, Type: "stale", TargetID: "stale", Time: 1}
		want, got, viaCells := stale, stale, stale
		wantErr := general.FromRow(getterRow(func(n string) []string { return fields[n] }), &want)
		gotErr := fast.FromRow(row, &got)
		require.Equal(t, wantErr, gotErr, "%s layout %d", where, k)
		require.Equal(t, want, got, "%s layout %d", where, k)
		cellsErr := row.read(fast, &viaCells)
		require.Equal(t, wantErr, cellsErr, "%s layout %d", where, k)
		require.Equal(t, want, viaCells, "%s layout %d", where, k)
		if row.cols.plainOnly(row.cells) {
			plain++
		}
		checkCompactRecord(t, row, cellsErr, viaCells, fmt.Sprintf("%s layout %d", where, k))
	}
	return plain
}

// checkCompactRecord checks AppendCompactRecord on a row FromCells read as ev (err): when it
// takes the row, its record, time and type must be ev's; it must take every compact row in
// plain cells with a time of its own.
func checkCompactRecord(t *testing.T, row *cellsRow, err error, ev Event, where string) (took bool) {
	t.Helper()
	rec, tm, typ, ok := row.cols.AppendCompactRecord([]byte("x"), row.cells)
	p := row.cols.at[fCompact].plain
	_, millis := parseMillis(nil)
	if p >= 0 {
		_, millis = parseMillis(row.cells[p])
	}
	require.Equal(t, row.cols.compactOnly(row.cells) && millis && ev.Time != 0, ok, where)
	if !ok {
		require.Equal(t, []byte("x"), rec, where)
		return false
	}
	require.NoError(t, err, where)
	require.Equal(t, ev.AppendRecord([]byte("x")), rec, where)
	require.Equal(t, ev.Time, tm, where)
	require.Equal(t, ev.Type, typ, where)
	return true
}

// TestCompactRecordNormalizes reads compact rows with the values anyone could write (no-value
// spellings, risk and proxy as logged, multivalues, odd times) through AppendCompactRecord and
// FromCells: the records must be the same, and the plain rows with a time taken.
func TestCompactRecordNormalizes(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	values := []string{"", "null", "None", "-", "unknown", "x", "level=HIGH", "{reasons=x, level=LOW}", "MEDIUM", "True", "TRUE", "false", "a\nb"}
	times := []string{"1717200000123", "0", "", "null", "-5", "+5", "12a", "1234567890123456789"}
	took := 0
	for i := range 3000 {
		fields := map[string][]string{}
		for j, name := range CompactFields {
			v := values[r.IntN(len(values))]
			switch {
			case j == 0:
				v = times[r.IntN(len(times))]
			case j == compactType && r.IntN(4) > 0:
				v = "user.session.start"
			}
			if v != "" {
				fields[name] = strings.Split(v, "\n")
			}
		}
		for k := range 2 {
			row := newCellsRow(r, fields)
			var ev Event
			err := row.read(new(Extractor), &ev)
			if checkCompactRecord(t, row, err, ev, fmt.Sprintf("row %d layout %d", i, k)) {
				took++
			}
		}
	}
	require.Greater(t, took, 200)
}

// TestFromRowPlainCellsMatchesValues reads rows without compact records, most of them with
// every single-valued field in its plain cell (the path FromRow takes without a call per
// field), through their cells and through Values alone: the Events must be the same.
func TestFromRowPlainCellsMatchesValues(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var fast, general Extractor
	rows, plain := 0, 0
	for _, f := range append(sampleFiles, "../scenarios/sspr.ndjson", "../scenarios/app_signin.ndjson", "../scenarios/signin_success_push.ndjson") {
		for i, line := range readLines(t, filepath.Join("testdata", "okta-samples", f)) {
			fields := flatten(line)
			switch i % 4 {
			case 0:
				fields["_time"] = []string{"1581711537.7"}
			case 1:
				fields["_time"] = []string{"x"} // an error unless published is read
			case 2:
				fields["outcome.result"] = []string{"SUCCESS", "FAILURE"} // a multivalue
			}
			if i%5 == 0 {
				fields["os_type"] = []string{""} // an empty compact column
			}
			plain += checkLayouts(t, r, &fast, &general, fields, fmt.Sprintf("%s:%d", f, i+1))
			rows += 3
		}
	}
	require.Greater(t, plain, 100)
	require.Greater(t, rows-plain, 50)
}

func TestFromRowCellsNoValueSpellings(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, none := range []string{"", "unknown", "-", "null", "NULL", "Null", "None", "nil", "x"} {
		fields := map[string][]string{"eventType": {"user.session.start"}, "_time": {"1581711537.7"},
			"actor.id": {none}, "actor.alternateId": {"a@example.com"}, "actor.type": {"User"},
			"target{}.type": {"User", "AppInstance"}, "target{}.id": {none, "0oa1"}, "target{}.displayName": {"x", "app"}}
		for k := range 4 {
			var want, got Event
			var x, y Extractor
			require.NoError(t, x.FromRow(getterRow(func(n string) []string { return fields[n] }), &want))
			require.NoError(t, newCellsRow(r, fields).read(&y, &got))
			require.Equal(t, want, got, fmt.Sprintf("%q layout %d", none, k))
		}
	}
}

// TestFromRowTargets reads target{}.* lists that skip the members nothing uses (ids of
// policies, names of users) or lack them: each list is read only when a type needs it.
func TestFromRowTargets(t *testing.T) {
	type want struct{ id, login, app, factor string }
	for _, tc := range []struct {
		types, ids, logins, names []string
		want                      want
	}{
		{nil, []string{"00u1"}, []string{"a@x"}, []string{"App"}, want{}},
		{[]string{"PolicyEntity", "PolicyRule"}, []string{"0pa1", "0pr1"}, nil, []string{"P", "R"}, want{}},
		{[]string{"AppInstance", "AppUser"}, []string{"0oa1", "0ua1"}, nil, []string{"Slack", "u"}, want{app: "Slack"}},
		{[]string{"AppInstance", "AppUser"}, []string{"0oa1", "0ua1"}, nil, nil, want{}},
		{[]string{"AuthenticatorEnrollment"}, []string{"pfd1"}, nil, []string{"Okta Verify"}, want{factor: "Okta Verify"}},
		{[]string{"User"}, []string{"00u1"}, []string{"a@x"}, []string{"A"}, want{id: "00u1", login: "a@x"}},
		{[]string{"User"}, []string{"unknown"}, []string{"a@x"}, nil, want{}},
		{[]string{"AppInstance", "User"}, []string{"00u1"}, []string{"a@x"}, []string{"Slack", "A"}, want{id: "00u1", login: "a@x", app: "Slack"}},
		{[]string{"AppInstance", "User", "User"}, []string{"00u1"}, nil, nil, want{}},
		{[]string{"Factor", "User", "AppInstance"}, []string{"f1", "00u2", "0oa3"}, []string{"", "b@x", ""}, []string{"SMS", "B", "Mail"},
			want{id: "00u2", login: "b@x", app: "Mail", factor: "SMS"}},
	} {
		fields := map[string][]string{"eventType": {"user.session.start"}, "_time": {"1581711537.7"},
			"target{}.type": tc.types, "target{}.id": tc.ids, "target{}.alternateId": tc.logins, "target{}.displayName": tc.names}
		var e Event
		require.NoError(t, FromFields(func(n string) []string { return fields[n] }, &e))
		require.Equal(t, tc.want, want{e.TargetID, e.TargetLogin, e.App, e.Factor}, "%q", tc.types)
		var fast, general Extractor
		checkLayouts(t, rand.New(rand.NewPCG(11, uint64(len(tc.types)))), &fast, &general, fields, fmt.Sprint(tc.types))
	}
}

// FuzzFromRowCells reads rows of fuzzed values (several values joined by newlines) through
// cells laid out at random and through Values alone: the Events and errors must be the same.
func FuzzFromRowCells(f *testing.F) {
	f.Add(uint64(1), "user.session.start", "User", "SUCCESS", "1717287262.996", "", "AppInstance\nUser", "0oa1\n00u1", "")
	f.Add(uint64(2), "policy.evaluate_sign_on", "null", "ALLOW\nDENY", "1717287262", "2024-01-01T00:00:00.123Z", "User", "unknown", "")
	f.Add(uint64(3), "x", "", "", "soon", "", "", "", "user.session.start")
	f.Fuzz(func(t *testing.T, seed uint64, typ, actorType, result, time, published, types, ids, osType string) {
		fields := map[string][]string{}
		for name, v := range map[string]string{"eventType": typ, "actor.type": actorType, "outcome.result": result,
			"_time": time, "published": published, "target{}.type": types, "target{}.id": ids, "os_type": osType,
			"actor.id": "00u1", "client.ipAddress": "10.0.0.1"} {
			if v != "" {
				fields[name] = strings.Split(v, "\n")
			}
		}
		var fast, general Extractor
		checkLayouts(t, rand.New(rand.NewPCG(seed, 1)), &fast, &general, fields, fmt.Sprint(seed))
	})
}

func TestParseMillis(t *testing.T) {
	for _, s := range []string{"1717200000123", "0", "-86400000", "123456789012345678", "1234567890123456789", "", "-", "+5", "12a", " 1", "1.5"} {
		want, err := strconv.ParseInt(s, 10, 64)
		ok := err == nil && !strings.HasPrefix(s, "+") && len(strings.TrimPrefix(s, "-")) <= 18
		got, gotOK := parseMillis([]byte(s))
		require.Equal(t, ok, gotOK, s)
		if ok {
			require.Equal(t, want, got, s)
		}
	}
}

func TestFieldCounts(t *testing.T) {
	require.Len(t, CompactFields, numCompact)
	require.Len(t, RowFields, numRowFields)
}

// TestCompactTimeAsStrconv checks that os_time is read as strconv.ParseInt reads it, beyond
// what parseMillis takes (a plus sign, 19 digits), and rejected where strconv rejects it.
func TestCompactTimeAsStrconv(t *testing.T) {
	for s, want := range map[string]int64{"1717200000123": 1717200000123, "+1717200000123": 1717200000123,
		"1234567890123456789": 1234567890123456789, "-86400000": -86400000} {
		var e Event
		require.NoError(t, FromFields(func(n string) []string {
			return map[string][]string{"os_time": {s}, "os_type": {"user.session.start"}}[n]
		}, &e), s)
		require.Equal(t, want, e.Time, s)
	}
	for _, s := range []string{"12a", "99999999999999999999", "1.5"} {
		var e Event
		require.Error(t, FromFields(func(n string) []string {
			return map[string][]string{"os_time": {s}, "os_type": {"user.session.start"}}[n]
		}, &e), s)
	}
}
