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
	for i := 1; i < numCompact; i++ {
		s := *compactEventField(e, i)
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// ReadRecord sets e's string fields from rec, a record AppendRecord wrote, leaving Time and Ref
// as they are; the strings view rec, which must stay unchanged while e is used.
func (e *Event) ReadRecord(rec []byte) error {
	for i := 1; i < numCompact; i++ {
		if len(rec) == 0 {
			return errRecord
		}
		// A field shorter than 128 bytes, almost every one, has a one-byte length:
		// read here, not by Uvarint's loop (the reduce, callgrind, realistic stream:
		// 1 559 M -> 1 505 M instructions per 100 000 events).
		n, k := uint64(rec[0]), 1
		if n >= 0x80 {
			n, k = binary.Uvarint(rec)
		}
		if k <= 0 || n > uint64(len(rec)-k) {
			return errRecord
		}
		*compactEventField(e, i) = view(rec[k : k+int(n)])
		rec = rec[k+int(n):]
	}
	if len(rec) != 0 {
		return errRecord
	}
	return nil
}
