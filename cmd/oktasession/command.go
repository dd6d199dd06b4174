package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/oktasight/oktasight/app/scp"
	"github.com/oktasight/oktasight/app/session"
)

// What each phase asks splunkd for in required_fields, the least it must extract and ship.
//
// The map phase reads the Okta JSON in _raw (and _time, which every event has, should an
// event lack published): splunkd ships _raw anyway and need extract nothing. Asking for
// eventType, actor.id, target{}.type, ... instead (or as well) would make every indexer run
// the sourcetype's search-time JSON extraction (KV_MODE = json) over each 2 KB event, and its
// target{}.* lists come as parallel multivalues that stop lining up as soon as one target lacks
// a member; the JSON keeps each target's members together.
//
// input=fields is for searches that have already reduced events to fields (| inputlookup,
// | table): the map phase then asks for Splunk's names of the Okta fields instead of _raw.
//
// The reduce reads only the compact records the map phase wrote.
var (
	mapRawFields    = []string{"_raw", "_time"}
	mapFieldsFields = []string{
		"_time", "eventType", "uuid", "published",
		"actor.id", "actor.type", "actor.alternateId", "actor.displayName",
		"target{}.id", "target{}.type", "target{}.alternateId", "target{}.displayName",
		"client.ipAddress", "client.userAgent.rawUserAgent", "authenticationContext.externalSessionId",
		"outcome.result", "outcome.reason", "debugContext.debugData.factor",
		// The per-sequence signals.
		"transaction.id", "debugContext.debugData.behaviors", "debugContext.debugData.dtHash",
		"debugContext.debugData.risk", "debugContext.debugData.logOnlySecurityData",
		"client.geographicalContext.country", "client.geographicalContext.city",
		"securityContext.asNumber", "securityContext.isp", "securityContext.isProxy",
	}
	reduceFields = session.CompactFields
)

// command is oktasession as an SCP v2 command. One process serves one phase:
//   - phase=map (streaming, on the indexers): each Okta event in, its compact record out;
//     events no flow uses are dropped;
//   - mode=sequences (reporting, on the search head): records in, kept in time order (see
//     reducer), one row per sequence out in the last reply;
//   - mode=events (events): every input row out, with its sequence assignment.
type command struct {
	ctx context.Context // ends when splunkd stops the search
	p   params
	eng *session.Engine
	x   *extractor
	ev  session.Event
	w   *scp.RowWriter // the reply being built, set during Execute and Finish

	stats struct{ rows, notOkta, noTime, skipped, ignored int }
	held  *heldRows // mode=events
	red   *reducer  // mode=sequences

	timeBuf []byte
}

// GetInfo parses the arguments and declares the phase's type.
func (c *command) GetInfo(info *scp.Info) (*scp.GetInfoReply, error) {
	p, err := parseParams(info.SearchInfo.Args)
	if err != nil {
		return nil, err
	}
	p.searchEarliest(info.SearchInfo.EarliestTime)
	c.p, c.x = p, newExtractor()
	switch {
	case p.phase == "map" && p.input == inputFields:
		return &scp.GetInfoReply{Type: scp.Streaming, RequiredFields: mapFieldsFields}, nil
	case p.phase == "map":
		// The map phase drops events no flow uses: their JSON is read no further than their
		// eventType.
		c.x.rr.Skip = unsequenced
		return &scp.GetInfoReply{Type: scp.Streaming, RequiredFields: mapRawFields}, nil
	case p.opts.Mode == session.ModeEvents:
		c.held = newHeldRows()
		c.eng = session.New(p.opts, nil, c.held.assign)
		// No required_fields: the events go back out with every field they came with.
		return &scp.GetInfoReply{Type: scp.Events}, nil
	default:
		// The reducer feeds the engine oldest first, whatever order the input came in.
		o := p.opts
		o.Order = session.OrderAscending
		c.eng = session.New(o, c.emit, nil)
		c.red = newReducer(info.SearchInfo.DispatchDir)
		preop := strings.Join(append([]string{"oktasession", "phase=map"}, p.rest...), " ")
		return &scp.GetInfoReply{Type: scp.Reporting, StreamingPreop: preop, RequiredFields: reduceFields, RunInPreview: new(false)}, nil
	}
}

// Execute feeds one chunk of rows.
func (c *command) Execute(req *scp.Request, w *scp.RowWriter) error {
	c.w = w
	r := req.Rows
	if r.NumFields() == 0 {
		return nil // a header-only or empty chunk
	}
	c.x.bind(r)
	var err error
	switch {
	case c.p.phase == "map":
		err = c.mapRows(r, w)
	case c.held != nil:
		err = c.eventRows(r)
	default:
		err = c.sequenceRows(r)
	}
	if err != nil {
		return fmt.Errorf("oktasession: chunk %d: %w", req.Seq, err)
	}
	if c.held != nil {
		return c.held.flush(w)
	}
	return nil
}

// Finish sequences what is still open and reports the counts.
func (c *command) Finish(w *scp.RowWriter) error {
	c.w = w
	// No rows come after the last request's: let its body go (the extractor and the last
	// event point into it) before the engine's last sequences make the reply larger.
	c.x, c.ev = nil, session.Event{}
	if c.red != nil {
		ctx := c.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		if err := c.red.finish(ctx, c.eng); err != nil {
			return err
		}
		if err := c.reduceExact(); err != nil {
			return err
		}
	} else if c.eng != nil {
		c.eng.Close()
	}
	if c.held != nil {
		c.held.releaseAll()
		if err := c.held.flush(w); err != nil {
			return err
		}
	}
	c.report(w)
	return nil
}

// sequenceRows keeps the events of a chunk for the reducer.
func (c *command) sequenceRows(r *scp.RowReader) error {
	// The map phase's rows, all of the reduce's but those of a map that wrote multivalues or
	// no time, are kept as their records without an Event: read straight from their CSV lines
	// where they are simple, else from their cells.
	var (
		t   int64
		typ string
	)
	take := func(b []byte) (n int) {
		n, c.red.rec, t, typ = c.x.compactRecord(b, c.red.rec[:0])
		return n
	}
	for {
		next, taken := r.NextWith(take)
		if !next {
			break
		}
		if !taken {
			var ok bool
			if c.red.rec, t, typ, ok = c.x.cc.AppendCompactRecord(c.red.rec[:0], r.Cells()); !ok {
				if err := c.eventRow(); err != nil {
					return err
				}
				continue
			}
		}
		c.stats.rows++
		if !session.Sequenced(typ) {
			c.stats.ignored++
		} else if err := c.red.addRecord(t, c.red.rec); err != nil {
			return err
		}
	}
	return r.Err()
}

// eventRow keeps the event of a row other than the map phase's compact records.
func (c *command) eventRow() error {
	c.ev.Ref = 0
	switch {
	case !c.row():
	case !session.Sequenced(c.ev.Type):
		c.stats.ignored++
	default:
		return c.red.add(&c.ev)
	}
	return nil
}

// reduceExact fails the search where the engine, although fed in time order, could not
// sequence exactly. A key never quiet is sequenced as it goes and is never cut in time order;
// only more than Options.MaxKeyEvents events of one key within Disorder of each other (the
// events it must hold before any of them is in final order) would be, and the flows open at
// the cut would be printed cut in two.
func (c *command) reduceExact() error {
	st := c.eng.Stats()
	switch {
	case st.Late > 0:
		return errors.New("oktasession: internal error: events reached the engine out of time order after sorting")
	case st.Forced > 0:
		return fmt.Errorf("oktasession: %d time(s) one %s had more than %d events within %s of each other, more than the command keeps in memory for one sequence key; its sequences would be cut in two. Search a shorter time range, or leave that %s out",
			st.Forced, keyName(c.p.opts.By), c.p.opts.MaxKeyEvents, c.p.opts.Disorder, keyName(c.p.opts.By))
	}
	return nil
}

// keyName names what sequences follow, for messages.
func keyName(by session.By) string {
	switch by {
	case session.BySession:
		return "session (by=session)"
	case session.ByIP:
		return "client IP (by=ip)"
	}
	return "user"
}

// close removes what the command put on disk; Run calls it on every way out.
func (c *command) close() {
	if c.red != nil {
		c.red.close()
	}
}

// row extracts the current row into c.ev and counts it.
func (c *command) row() bool {
	c.stats.rows++
	switch c.x.event(&c.ev) {
	case rowNotOkta:
		c.stats.notOkta++
		return false
	case rowNoTime:
		c.stats.noTime++
		return false
	case rowSkipped:
		c.stats.skipped++
		return false
	}
	return true
}

// unsequenced reports whether no flow uses events of this type.
func unsequenced(eventType string) bool { return !session.Sequenced(eventType) }

// emit writes a sequence into the current reply.
func (c *command) emit(s *session.Sequence) {
	if len(c.w.Fields()) == 0 {
		if err := c.w.SetFields(session.SequenceFields...); err != nil {
			return // impossible: the fields are not empty
		}
	}
	s.WriteCells(c.w)
	_ = c.w.EndRow() // the row has exactly SequenceFields cells
	if c.red != nil {
		c.red.spillReply(c.w)
	}
}

// mapRows writes the compact record of every row a flow may use.
func (c *command) mapRows(r *scp.RowReader, w *scp.RowWriter) error {
	idx := r.Index("_chunked_idx")
	fields := append([]string{"_time"}, session.CompactFields...)
	if idx >= 0 {
		// splunkd numbers the rows of a streaming command's chunk; pass the number back.
		fields = append(fields, "_chunked_idx")
	}
	if err := w.SetFields(fields...); err != nil {
		return err
	}
	for r.Next() {
		if !c.row() || !session.Sequenced(c.ev.Type) {
			continue
		}
		if c.x.time >= 0 && len(r.Value(c.x.time)) > 0 {
			w.ValueBytes(r.Value(c.x.time))
		} else {
			c.timeBuf = formatMillis(c.timeBuf[:0], c.ev.Time)
			w.ValueBytes(c.timeBuf)
		}
		c.timeBuf = c.ev.WriteCompact(w, c.timeBuf)
		if idx >= 0 {
			w.ValueBytes(r.Value(idx))
		}
		if err := w.EndRow(); err != nil {
			return err
		}
	}
	return r.Err()
}

// eventRows holds every row until the engine assigns it (or never will).
func (c *command) eventRows(r *scp.RowReader) error {
	hdr := c.held.header(r)
	for r.Next() {
		ref := c.held.add(hdr, r.Line())
		c.ev.Ref = ref
		if c.row() && session.Sequenced(c.ev.Type) {
			c.eng.Add(&c.ev)
		} else {
			c.held.release(ref)
		}
	}
	return r.Err()
}

// report adds the run's counts to the inspector, and a warning when the input held no Okta
// events or, in mode=events, was too far out of order to be sequenced exactly (the reduce
// orders its input itself and fails where it cannot be exact: see reduceExact).
func (c *command) report(w *scp.RowWriter) {
	var st session.Stats
	if c.eng != nil {
		st = c.eng.Stats()
	}
	msg := fmt.Sprintf("oktasession: rows=%d not_okta=%d no_time=%d skipped=%d sequenced=%d sequences=%d ignored=%d no_key=%d unowned=%d late=%d forced=%d passes=%d",
		c.stats.rows, c.stats.notOkta, c.stats.noTime, c.stats.skipped, st.Sequenced, st.Sequences, st.Ignored+c.stats.ignored, st.NoKey, st.Unowned, st.Late, st.Forced, st.Passes)
	if c.red != nil {
		so := c.red.stats()
		msg += fmt.Sprintf(" sorted=%d runs=%d spilled_bytes=%d", so.Records, so.Runs, so.Spilled)
	}
	w.Message(scp.LevelDebug, msg)
	if c.stats.rows > 0 && c.stats.notOkta == c.stats.rows {
		w.Message(scp.LevelWarn, "oktasession: no Okta System Log events in the input: it needs _raw with Okta JSON, or the fields eventType, actor.id, actor.type, target{}.id, target{}.type, _time")
	}
	if st.Late > 0 || st.Forced > 0 {
		w.Message(scp.LevelWarn, fmt.Sprintf("oktasession: %d events arrived out of time order and %d busy keys were split; sequences may differ from sorted input (| sort _time before oktasession)", st.Late, st.Forced))
	}
}
