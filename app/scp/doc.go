// Package scp is a codec for Splunk's Search Command Protocol v2 ("chunked = true" in
// commands.conf), with no knowledge of what the command computes.
//
// Both directions carry chunks: `chunked 1.0,<metadata_len>,<body_len>\n`, a JSON metadata
// object, then a CSV body. splunkd sends one getinfo request, then execute requests with CSV
// rows; the command answers each request with exactly one reply. The last request and its
// reply carry "finished": true. Errors reach the user as inspector messages in a reply.
//
// The layers are separate: ChunkReader and ChunkWriter know only lengths and bytes,
// RowReader and RowWriter only Splunk's CSV (with the __mv_ multivalue columns), and Serve
// runs the handshake and the execute loop around a Command. Readers reuse their buffers and
// hand out slices into them, so a row costs no allocation unless the command keeps a value.
package scp
