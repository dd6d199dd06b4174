package modinput

import (
	"encoding/xml"
	"fmt"
	"io"
)

// Scheme is what `--scheme` prints: how splunkd shows and runs the input.
type Scheme struct {
	Title                 string
	Description           string
	UseExternalValidation bool
	UseSingleInstance     bool
	StreamingMode         string // "xml" or "simple"
	Args                  []Arg
}

// Arg is one setting of the input as shown in Splunk Web and the REST API.
type Arg struct {
	Name             string
	Title            string
	Description      string
	Validation       string // splunkd's internal validation expression, optional
	DataType         string // string, number or boolean
	RequiredOnEdit   bool
	RequiredOnCreate bool
}

// The xml* types fix the element order the Splunk SDK writes and splunkd expects.
type xmlScheme struct {
	XMLName               xml.Name `xml:"scheme"`
	Title                 string   `xml:"title"`
	Description           string   `xml:"description,omitempty"`
	UseExternalValidation bool     `xml:"use_external_validation"`
	UseSingleInstance     bool     `xml:"use_single_instance"`
	StreamingMode         string   `xml:"streaming_mode"`
	Args                  []xmlArg `xml:"endpoint>args>arg"`
}

type xmlArg struct {
	Name             string `xml:"name,attr"`
	Title            string `xml:"title,omitempty"`
	Description      string `xml:"description,omitempty"`
	Validation       string `xml:"validation,omitempty"`
	DataType         string `xml:"data_type,omitempty"`
	RequiredOnEdit   bool   `xml:"required_on_edit"`
	RequiredOnCreate bool   `xml:"required_on_create"`
}

// WriteScheme writes s as splunkd's introspection XML.
func WriteScheme(w io.Writer, s Scheme) error {
	if s.Title == "" {
		return fmt.Errorf("scheme: a title is required")
	}
	mode := s.StreamingMode
	if mode == "" {
		mode = "xml"
	}
	x := xmlScheme{
		Title: s.Title, Description: s.Description, UseExternalValidation: s.UseExternalValidation,
		UseSingleInstance: s.UseSingleInstance, StreamingMode: mode,
	}
	for _, a := range s.Args {
		if !validName(a.Name) {
			return fmt.Errorf("scheme: argument name %q is not [0-9a-zA-Z][0-9a-zA-Z_-]*", a.Name)
		}
		x.Args = append(x.Args, xmlArg(a))
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write scheme: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(x); err != nil {
		return fmt.Errorf("write scheme: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write scheme: %w", err)
	}
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || (i > 0 && (r == '_' || r == '-'))
		if !ok {
			return false
		}
	}
	return true
}
