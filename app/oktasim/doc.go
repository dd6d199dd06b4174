// Package oktasim is a simulated Okta org: a generator of realistic System Log events and an
// http.Handler that serves them as GET /api/v1/logs does in polling mode, with Okta's Link
// paging, SSWS authentication, per-window rate limits and injectable faults.
//
// It exists for the demo, for crash and catch-up tests and for benchmarks of the modular
// input; production code never imports it.
//
// # Events
//
// Generate writes each event as Okta's API does: the top-level keys in the order the API
// sends them (actor, client, device, authenticationContext, displayMessage, eventType,
// outcome, published, securityContext, severity, debugContext, legacyEventType, transaction,
// uuid, version, request, target), "version" as the string "0", debugData values as strings,
// client.zone as the string "null", and published as "2006-01-02T15:04:05.000Z". Content is
// modelled on the real events in shared/data/okta-samples; the event types no public sample
// shows (the recovery send events, unlock, deny_access, factor.activate) follow the same
// shapes with display messages of our own.
//
// # Serving
//
// The store is kept in persistence order: a backlog given to NewServer is sorted by
// published then uuid, and events appended later (Append, Live) come after it, as events
// Okta persists late do. A polling query (no until) starts at the first event persisted at
// or after since and is then continued through the opaque after cursor of the rel="next"
// link, which is always present and, once caught up, returns the events appended since.
package oktasim
