package modinput

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// maxConfig bounds what is read from splunkd: a configuration is a few kilobytes.
const maxConfig = 16 << 20

// InputConfig is the run-time configuration splunkd writes on stdin.
type InputConfig struct {
	ServerHost    string
	ServerURI     string
	SessionKey    string
	CheckpointDir string
	Stanzas       []Stanza
}

// Stanza is one configured input: its full name ("oktainput://prod") and settings.
type Stanza struct {
	Name       string
	App        string
	Params     map[string]string
	ParamLists map[string][]string
}

// ValidationRequest is what splunkd sends to `--validate-arguments`.
type ValidationRequest struct {
	ServerHost    string
	ServerURI     string
	SessionKey    string
	CheckpointDir string
	Name          string // the input's name, opaque
	Params        map[string]string
	ParamLists    map[string][]string
}

type xmlParam struct {
	Name  string `xml:"name,attr"`
	Value string `xml:",chardata"`
}

type xmlParamList struct {
	Name   string   `xml:"name,attr"`
	Values []string `xml:"value"`
}

type xmlAny struct {
	XMLName xml.Name
}

type xmlStanza struct {
	Name   string         `xml:"name,attr"`
	App    string         `xml:"app,attr"`
	Params []xmlParam     `xml:"param"`
	Lists  []xmlParamList `xml:"param_list"`
	Other  []xmlAny       `xml:",any"`
}

type xmlInput struct {
	XMLName       xml.Name
	ServerHost    string      `xml:"server_host"`
	ServerURI     string      `xml:"server_uri"`
	SessionKey    string      `xml:"session_key"`
	CheckpointDir string      `xml:"checkpoint_dir"`
	Stanzas       []xmlStanza `xml:"configuration>stanza"`
	Items         []xmlStanza `xml:"item"`
}

// ParseInputConfig reads the configuration XML of a run (root element <input>).
func ParseInputConfig(r io.Reader) (*InputConfig, error) {
	var x xmlInput
	if err := decode(r, &x); err != nil {
		return nil, fmt.Errorf("input configuration: %w", err)
	}
	if x.XMLName.Local != "input" {
		return nil, fmt.Errorf("input configuration: root element is <%s>, want <input>", x.XMLName.Local)
	}
	cfg := &InputConfig{ServerHost: x.ServerHost, ServerURI: x.ServerURI, SessionKey: x.SessionKey, CheckpointDir: x.CheckpointDir}
	for i, s := range x.Stanzas {
		st, err := stanza(s)
		if err != nil {
			return nil, fmt.Errorf("input configuration: stanza %d: %w", i+1, err)
		}
		cfg.Stanzas = append(cfg.Stanzas, st)
	}
	return cfg, nil
}

// ParseValidation reads a validation request (root element <items>, exactly one <item>).
func ParseValidation(r io.Reader) (*ValidationRequest, error) {
	var x xmlInput
	if err := decode(r, &x); err != nil {
		return nil, fmt.Errorf("validation request: %w", err)
	}
	if x.XMLName.Local != "items" {
		return nil, fmt.Errorf("validation request: root element is <%s>, want <items>", x.XMLName.Local)
	}
	if len(x.Items) != 1 {
		return nil, fmt.Errorf("validation request: %d <item> elements, want exactly one", len(x.Items))
	}
	st, err := stanza(x.Items[0])
	if err != nil {
		return nil, fmt.Errorf("validation request: %w", err)
	}
	return &ValidationRequest{
		ServerHost: x.ServerHost, ServerURI: x.ServerURI, SessionKey: x.SessionKey, CheckpointDir: x.CheckpointDir,
		Name: st.Name, Params: st.Params, ParamLists: st.ParamLists,
	}, nil
}

func stanza(s xmlStanza) (Stanza, error) {
	if len(s.Other) > 0 {
		return Stanza{}, fmt.Errorf("%q: unexpected element <%s> (only <param> and <param_list> are allowed)", s.Name, s.Other[0].XMLName.Local)
	}
	st := Stanza{Name: s.Name, App: s.App, Params: map[string]string{}, ParamLists: map[string][]string{}}
	for _, p := range s.Params {
		if p.Name == "" {
			return Stanza{}, fmt.Errorf("%q: a <param> has no name", s.Name)
		}
		st.Params[p.Name] = p.Value
	}
	for _, l := range s.Lists {
		if l.Name == "" {
			return Stanza{}, fmt.Errorf("%q: a <param_list> has no name", s.Name)
		}
		st.ParamLists[l.Name] = l.Values
	}
	return st, nil
}

// decode parses splunkd's XML. splunkd sends UTF-8; UTF-16 with a byte-order mark (as in
// the Splunk SDK's fixtures) is converted first, so either reads the same.
func decode(r io.Reader, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, maxConfig+1))
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if len(data) > maxConfig {
		return fmt.Errorf("larger than %d bytes", maxConfig)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("nothing on stdin (run by splunkd, or pipe the XML in)")
	}
	data, err = toUTF8(data)
	if err != nil {
		return err
	}
	dec := xml.NewDecoder(bufio.NewReader(bytes.NewReader(data)))
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-16", "utf-16be", "utf-16le", "utf8", "us-ascii", "ascii":
			return in, nil // already converted to UTF-8 above
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed XML: %w", err)
	}
	return nil
}

func toUTF8(data []byte) ([]byte, error) {
	var bigEndian bool
	switch {
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		bigEndian = true
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:], nil
	default:
		return data, nil
	}
	body := data[2:]
	if len(body)%2 != 0 {
		return nil, errors.New("UTF-16 input has an odd number of bytes")
	}
	units := make([]uint16, len(body)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
		} else {
			units[i] = uint16(body[2*i+1])<<8 | uint16(body[2*i])
		}
	}
	return []byte(string(utf16.Decode(units))), nil
}

// WriteValidationError writes the reply splunkd shows the admin when validation fails.
func WriteValidationError(w io.Writer, msg string) error {
	var b bytes.Buffer
	b.WriteString("<error><message>")
	appendEscaped(&b, []byte(msg), false)
	b.WriteString("</message></error>\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write validation error: %w", err)
	}
	return nil
}
