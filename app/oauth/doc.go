// Package oauth authenticates requests to Okta's APIs with OAuth 2.0 for a service app: the
// client-credentials grant with a private_key_jwt client assertion (RS256/384/512 or ES256/384/512), the access
// token cached and renewed before it expires, and DPoP (RFC 9449) proofs when the app requires
// them. Transport is an http.RoundTripper, so any HTTP client (the Okta System Log client among
// them) gains these credentials without knowing about them. JOSE signing and key parsing come
// from github.com/go-jose/go-jose/v4; no signature code is written here.
package oauth
