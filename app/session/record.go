package session

import (
	"encoding/binary"
	"errors"
)

// errRecord is what ReadRecord says of bytes AppendRecord did not write.
var errRecord = errors.New("session: not an event record")

// AppendRecord appends e's string fields, in CompactFields order after os_time, to dst as a
// record for a sort that keeps events outside the heap: each a uvarint length and its bytes.
// Time and Ref are not in it (a sort keeps the time as its key). It is the reduce's sort
// record: unlike the compact CSV record it needs no quoting going in and no CSV reader coming
// back.
func (e *Event) AppendRecord(dst []byte) []byte {
	for _, s := range compactStrings(e) {
		dst = appendField(dst, s)
	}
	return dst
}

// appendField appends one field of a record: its length as a uvarint, written here as one
// byte when it is below 128 as almost every one is, and its bytes.
func appendField(dst []byte, s string) []byte {
	if len(s) < 0x80 {
		dst = append(dst, byte(len(s)))
	} else {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
	}
	return append(dst, s...)
}

// ReadRecord sets e's string fields from rec, a record AppendRecord wrote, leaving Time and Ref
// as they are; the strings view rec, which must stay unchanged while e is used.
func (e *Event) ReadRecord(rec []byte) error {
	fields := compactStrings(e)
	for i := range fields {
		if len(rec) == 0 {
			return errRecord
		}
		// A field shorter than 128 bytes, almost every one, has a one-byte length:
		// read here, not by Uvarint's loop (the reduce, callgrind, realistic stream:
		// 1 559 M -> 1 505 M instructions per 100 000 events).
		n, k := int(rec[0]), 1
		if n >= 0x80 {
			u, m := binary.Uvarint(rec)
			if m <= 0 || u > uint64(len(rec)-m) {
				return errRecord
			}
			n, k = int(u), m
		}
		rec = rec[k:]
		if n > len(rec) {
			return errRecord
		}
		fields[i] = view(rec[:n])
		rec = rec[n:]
	}
	if len(rec) != 0 {
		return errRecord
	}
	return nil
}

// Positions in CompactFields of the type and of the fields a record holds normalized
// (compactSignals).
const (
	compactType  = 2
	compactRisk  = 19
	compactProxy = 24
)

// CompactCells holds the plain cells of a row's compact fields by position in CompactFields,
// nil for a field the row lacks: what AppendRecord reads, from a row's cells
// (Columns.AppendCompactRecord) or straight from its CSV line (scp.SplitSimple).
type CompactCells [numCompact][]byte

// AppendRecord appends to dst the record AppendRecord writes for the Event FromCells reads from
// a compact row whose fields are the cells v holds (none a multivalue), and returns it with the
// Event's time and type (a view of v). ok is false, and dst as it was, for a row that is not a
// compact record with a time of its own (an empty os_type, os_time missing, zero or not
// parseMillis's): FromCells reads those.
//
// It is the reduce's ingest of the map phase's rows: the Event's strings would only be copied
// into the record, so they are neither made nor shared through the Extractor's caches
// (callgrind, realistic stream, reduce: 1 489 M -> 1 413 M per 100 000 events).
func (v *CompactCells) AppendRecord(dst []byte) (rec []byte, t int64, typ string, ok bool) {
	if len(v[compactType]) == 0 {
		return dst, 0, "", false // not a compact record (a "none" spelling is one, of no type)
	}
	typ = clean(view(v[compactType]))
	if t, ok = parseMillis(v[0]); !ok || t == 0 {
		return dst, 0, "", false
	}
	for i := 1; i < numCompact; i++ {
		s := view(v[i])
		// isNone only for short values (with appendField's one-byte lengths and ReadRecord's
		// loop by index, callgrind, realistic stream, reduce: 1 413 M -> 1 364 M).
		switch {
		case len(s) <= maxNone && isNone(s):
			s = ""
		case i == compactRisk:
			s = RiskLevel(s)
		case i == compactProxy:
			s = Proxy(s)
		}
		dst = appendField(dst, s)
	}
	return dst, t, typ, true
}

// AppendCompactRecord is CompactCells.AppendRecord for a row's cells laid out as c says; ok is
// also false for a row with a multivalue.
func (c *Columns) AppendCompactRecord(dst []byte, cells [][]byte) (rec []byte, t int64, typ string, ok bool) {
	if !c.compactOnly(cells) {
		return dst, 0, "", false
	}
	var v CompactCells
	for i := range v {
		if p := c.at[fCompact+i].plain; p >= 0 {
			v[i] = cells[p]
		}
	}
	return v.AppendRecord(dst)
}
