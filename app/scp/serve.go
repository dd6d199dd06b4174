package scp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrReported marks an error Serve has already shown to the user through the reply's
// inspector messages; the caller should exit without repeating it.
var ErrReported = errors.New("scp: reported to splunkd")

// Command is a search command served over the protocol.
type Command interface {
	// GetInfo answers the handshake. An error is shown to the user and ends the command.
	GetInfo(info *Info) (*GetInfoReply, error)
	// Execute handles one execute request; rows written to w form the reply's body.
	Execute(req *Request, w *RowWriter) error
	// Finish runs after Execute for the request that carries finished=true; its rows join
	// that request's reply, which is the last one.
	Finish(w *RowWriter) error
}

// Request is one execute request. Rows is valid only during the Execute call.
type Request struct {
	Finished bool       // splunkd's last request
	BodyLen  int        // the body length the request's header declared
	Rows     *RowReader // positioned after the body's header row; rows are read as they arrive
	Seq      int        // 0 for the first execute request
}

// Serve runs the protocol: it reads the getinfo request from in, answers it, then answers
// every execute request with exactly one reply, until splunkd's finished request has been
// answered or in ends. EOF at a chunk boundary (splunkd runs some commands for getinfo only,
// and closes the pipe when it cancels) returns nil. Errors, from the peer or from cmd, are
// reported in a finished reply with an ERROR inspector message and returned wrapping
// ErrReported. Nothing but chunks is written to out.
func Serve(ctx context.Context, in io.Reader, out io.Writer, cmd Command) error {
	s := server{cr: NewChunkReader(in), cw: NewChunkWriter(out)}
	return s.run(ctx, cmd)
}

type server struct {
	cr   *ChunkReader
	cw   *ChunkWriter
	rows RowReader
	w    RowWriter
}

func (s *server) run(ctx context.Context, cmd Command) error {
	meta, _, err := s.cr.Next()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return s.fail(fmt.Errorf("reading getinfo: %w", err))
	}
	var info Info
	if err := json.Unmarshal(meta, &info); err != nil {
		return s.fail(fmt.Errorf("scp: getinfo metadata: %w", err))
	}
	if info.Action != "getinfo" {
		return s.fail(fmt.Errorf("scp: first request has action %q, want getinfo", info.Action))
	}
	reply, err := cmd.GetInfo(&info)
	if err != nil {
		return s.fail(err)
	}
	if reply == nil {
		reply = &GetInfoReply{Type: Streaming}
	}
	b, err := json.Marshal(getInfoMeta{GetInfoReply: reply, Inspector: inspectorOf(reply.Messages)})
	if err != nil {
		return s.fail(fmt.Errorf("scp: encoding getinfo reply: %w", err))
	}
	if err := s.cw.WriteChunk(b, nil); err != nil {
		return err
	}
	req := Request{Rows: &s.rows}
	for seq := 0; ; seq++ {
		if err := ctx.Err(); err != nil {
			return s.fail(fmt.Errorf("scp: stopped: %w", err))
		}
		meta, body, err := s.cr.NextBody()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return s.fail(fmt.Errorf("reading execute request %d: %w", seq, err))
		}
		var em execMeta
		if err := json.Unmarshal(meta, &em); err != nil {
			return s.fail(fmt.Errorf("scp: execute request %d metadata: %w", seq, err))
		}
		if em.Action != "execute" {
			return s.fail(fmt.Errorf("scp: request %d has action %q, want execute", seq, em.Action))
		}
		s.w.Reset()
		// The body's rows are read from the stream as the command asks for them: memory
		// holds a window of the body, not the body (50 000 events with _raw are 100 MB).
		if err := s.rows.ResetReader(body, body.Len()); err != nil {
			return s.fail(fmt.Errorf("execute request %d: %w", seq, err))
		}
		req.Finished, req.BodyLen, req.Seq = em.Finished, body.Len(), seq
		if err := cmd.Execute(&req, &s.w); err != nil {
			return s.fail(err)
		}
		if err := s.rows.Drain(); err != nil {
			// Rows the command did not read, or a body cut short.
			return s.fail(fmt.Errorf("execute request %d: %w", seq, err))
		}
		if em.Finished {
			// The last request's rows are read: the reader's window can go before Finish
			// writes what the command still holds, which can make this reply the largest.
			s.rows = RowReader{}
			if err := cmd.Finish(&s.w); err != nil {
				return s.fail(err)
			}
		}
		b, err := json.Marshal(replyMeta{Finished: em.Finished, Inspector: inspectorOf(s.w.msgs)})
		if err != nil {
			return s.fail(fmt.Errorf("scp: encoding reply: %w", err))
		}
		if err := s.cw.writeReply(b, &s.w); err != nil {
			return err
		}
		if em.Finished {
			return nil
		}
	}
}

// fail tells splunkd about err in a finished reply and returns it marked as reported. When
// even that write fails (splunkd is gone) the write error is returned too.
func (s *server) fail(err error) error {
	b, merr := json.Marshal(replyMeta{Finished: true, Inspector: &inspector{Messages: []Message{{Level: LevelError, Text: err.Error()}}}})
	if merr != nil {
		return errors.Join(err, merr)
	}
	if werr := s.cw.WriteChunk(b, nil); werr != nil {
		return errors.Join(err, werr)
	}
	return fmt.Errorf("%w: %w", ErrReported, err)
}
