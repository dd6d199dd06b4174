// Package okta is a client for Okta's System Log API (GET /api/v1/logs): it builds polling
// URLs, follows Link paging, decodes pages without altering a byte of any event, keeps within
// a share of the org's rate limit, retries what retrying can fix and returns typed errors for
// what it cannot. It knows nothing of where the events go.
package okta
