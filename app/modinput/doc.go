// Package modinput speaks splunkd's modular-input protocol: the introspection scheme, the
// validation request and its error reply, the run-time configuration XML, and the XML event
// stream. It knows nothing of Okta.
package modinput
