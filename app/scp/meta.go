package scp

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Info is the metadata of splunkd's getinfo request.
type Info struct {
	Action                      string     `json:"action"`
	Preview                     bool       `json:"preview"`
	StreamingCommandWillRestart bool       `json:"streaming_command_will_restart"`
	SearchInfo                  SearchInfo `json:"searchinfo"`
}

// SearchInfo describes the search that runs the command. Splunk versions differ in which keys
// they send; absent keys stay zero.
type SearchInfo struct {
	Args          []string // options as parsed by splunkd, quotes removed
	RawArgs       []string // options as typed
	DispatchDir   string   // the job's directory; empty or temporary on getinfo-only runs
	SID           string
	App           string
	Owner         string
	Username      string
	SessionKey    string // a secret: never log it
	SplunkdURI    string
	SplunkVersion string
	Search        string // the full SPL, URL-encoded as splunkd sends it
	Command       string
	MaxResultRows int
	EarliestTime  string // epoch seconds, "0" for all time
	LatestTime    string
}

// UnmarshalJSON reads searchinfo, accepting numbers where splunkd usually sends strings and
// the reverse, so a Splunk version that changes a type does not stop the command.
func (s *SearchInfo) UnmarshalJSON(b []byte) error {
	var raw struct {
		Args          []string `json:"args"`
		RawArgs       []string `json:"raw_args"`
		DispatchDir   flex     `json:"dispatch_dir"`
		SID           flex     `json:"sid"`
		App           flex     `json:"app"`
		Owner         flex     `json:"owner"`
		Username      flex     `json:"username"`
		SessionKey    flex     `json:"session_key"`
		SplunkdURI    flex     `json:"splunkd_uri"`
		SplunkVersion flex     `json:"splunk_version"`
		Search        flex     `json:"search"`
		Command       flex     `json:"command"`
		MaxResultRows flex     `json:"maxresultrows"`
		EarliestTime  flex     `json:"earliest_time"`
		LatestTime    flex     `json:"latest_time"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("searchinfo: %w", err)
	}
	n, _ := strconv.Atoi(string(raw.MaxResultRows))
	*s = SearchInfo{Args: raw.Args, RawArgs: raw.RawArgs, DispatchDir: string(raw.DispatchDir), SID: string(raw.SID),
		App: string(raw.App), Owner: string(raw.Owner), Username: string(raw.Username), SessionKey: string(raw.SessionKey),
		SplunkdURI: string(raw.SplunkdURI), SplunkVersion: string(raw.SplunkVersion), Search: string(raw.Search),
		Command: string(raw.Command), MaxResultRows: n, EarliestTime: string(raw.EarliestTime), LatestTime: string(raw.LatestTime)}
	return nil
}

// flex is a JSON string or number, kept as text.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flex(s)
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flex(n)
	return nil
}

// Type is what kind of command splunkd is talking to.
type Type string

// The command types of the getinfo reply.
const (
	Streaming Type = "streaming" // no state across rows; distributable to the indexers
	Stateful  Type = "stateful"  // state across rows, on the search head, order kept
	Events    Type = "events"    // needs all events, may reorder them (like sort)
	Reporting Type = "reporting" // transforming, needs all events (like stats)
)

// GetInfoReply is the command's answer to getinfo.
type GetInfoReply struct {
	Type           Type     `json:"type"`
	Generating     bool     `json:"generating,omitempty"`
	RequiredFields []string `json:"required_fields,omitempty"`
	StreamingPreop string   `json:"streaming_preop,omitempty"`
	MaxWait        int      `json:"maxwait,omitempty"`
	RunInPreview   *bool    `json:"run_in_preview,omitempty"`
	MaxInputs      int      `json:"maxinputs,omitempty"`
	// Messages go to the inspector; WARN and ERROR show in a banner above the results.
	Messages []Message `json:"-"`
}

// Level is an inspector message level.
type Level string

// The levels splunklib uses.
const (
	LevelDebug Level = "DEBUG"
	LevelInfo  Level = "INFO"
	LevelWarn  Level = "WARN"
	LevelError Level = "ERROR"
	LevelFatal Level = "FATAL"
)

// Message is one inspector message, sent as [level, text].
type Message struct {
	Level Level
	Text  string
}

// MarshalJSON writes the message as splunkd expects it: ["LEVEL","text"].
func (m Message) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]string{string(m.Level), m.Text})
}

// UnmarshalJSON reads ["LEVEL","text"].
func (m *Message) UnmarshalJSON(b []byte) error {
	var pair [2]string
	if err := json.Unmarshal(b, &pair); err != nil {
		return fmt.Errorf("inspector message: %w", err)
	}
	m.Level, m.Text = Level(pair[0]), pair[1]
	return nil
}

// inspector is the reply's inspector object.
type inspector struct {
	Messages []Message `json:"messages,omitempty"`
}

// execMeta is the metadata of an execute request.
type execMeta struct {
	Action   string `json:"action"`
	Finished bool   `json:"finished"`
}

// replyMeta is the metadata of a reply to execute (or of a getinfo reply that ends the
// command).
type replyMeta struct {
	Finished  bool       `json:"finished"`
	Inspector *inspector `json:"inspector,omitempty"`
}

// getInfoMeta adds the inspector and the finished flag to a getinfo reply.
type getInfoMeta struct {
	*GetInfoReply
	Finished  bool       `json:"finished,omitempty"`
	Inspector *inspector `json:"inspector,omitempty"`
}

func inspectorOf(msgs []Message) *inspector {
	if len(msgs) == 0 {
		return nil
	}
	return &inspector{Messages: msgs}
}
