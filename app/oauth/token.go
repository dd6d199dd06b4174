package oauth

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxTokenBody bounds what is read of a token endpoint answer; a token response is a few KB.
const maxTokenBody = 64 << 10

// defaultLifetime is assumed when a token response has no usable expires_in. Okta always
// sends 3600; a short guess only costs an early renewal.
const defaultLifetime = 5 * time.Minute

// TokenError is an error answer of the token endpoint, or an answer it could not use.
type TokenError struct {
	Status      int    // HTTP status; 200 when a success answer was unusable
	Code        string // the OAuth "error", e.g. invalid_client
	Description string // "error_description", one line, shortened
}

func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "oauth: token endpoint: %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if h := e.Hint(); h != "" {
		b.WriteString(" (" + h + ")")
	}
	return b.String()
}

// Hint says what an Okta admin can do about the error, or "" when there is nothing to say.
func (e *TokenError) Hint() string {
	switch e.Code {
	case "invalid_client":
		return "check client_id, that the app's public key is registered in Okta (Admin > Applications > the API Services app > General > Public keys), that key_id matches its kid, that the app's client authentication is 'Public key / Private key', and that the app is active"
	case "invalid_scope":
		return "grant okta.logs.read to the app (Okta API Scopes tab) or remove scopes it was not granted"
	case "unauthorized_client":
		return "enable the Client Credentials grant on the API Services app and grant it okta.logs.read"
	case "invalid_dpop_proof":
		return "the DPoP proof was refused: check the host clock (iat), and that dpop matches the app's 'Require Demonstrating Proof of Possession' setting"
	case "use_dpop_nonce":
		return "the server kept asking for a new DPoP nonce"
	case "invalid_request":
		if strings.Contains(strings.ToLower(e.Description), "dpop") {
			return "the app requires DPoP: set dpop = 1, or clear 'Require Demonstrating Proof of Possession' on the app"
		}
		return "the request was malformed; check org_url and client_id"
	case "invalid_grant":
		return "the client assertion was refused: check the host clock and that the key matches the registered public key"
	case "unsupported_grant_type":
		return "the app must be an API Services app with the Client Credentials grant"
	}
	switch {
	case e.Status == 404:
		return "no token endpoint at this address: check org_url"
	case e.Status == 429:
		return "the token endpoint's rate limit was reached; tokens are cached, so another client may share the limit"
	case e.Status >= 500:
		return "Okta is failing; the request will be retried"
	}
	return ""
}

// Temporary reports whether asking again later may succeed: 429 and 5xx answers.
func (e *TokenError) Temporary() bool { return e.Status == 429 || e.Status >= 500 }

// tokenResponse is a usable answer of the token endpoint.
type tokenResponse struct {
	AccessToken string
	TokenType   string // "Bearer" or "DPoP", as sent
	Lifetime    time.Duration
	Scope       string
}

// parseTokenResponse reads a token endpoint answer. Error answers become a *TokenError; the
// body of a success answer holds the token, so none of it is ever quoted in an error.
func parseTokenResponse(status int, body []byte) (tokenResponse, error) {
	if status != 200 {
		return tokenResponse{}, parseTokenError(status, body)
	}
	var raw struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		Scope       string          `json:"scope"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return tokenResponse{}, &TokenError{Status: status, Description: "the answer is not a JSON token response"}
	}
	if raw.AccessToken == "" {
		return tokenResponse{}, &TokenError{Status: status, Description: "the answer has no access_token"}
	}
	if !validToken(raw.AccessToken) {
		return tokenResponse{}, &TokenError{Status: status, Description: "the access_token has characters an Authorization header cannot carry"}
	}
	r := tokenResponse{AccessToken: raw.AccessToken, TokenType: raw.TokenType, Scope: raw.Scope, Lifetime: defaultLifetime}
	// RFC 6749 says a number; some servers send a string.
	var secs float64
	s := strings.Trim(string(raw.ExpiresIn), `"`)
	if _, err := fmt.Sscan(s, &secs); err == nil && secs >= 1 && secs <= 366*24*3600 {
		r.Lifetime = time.Duration(secs * float64(time.Second))
	}
	return r, nil
}

// validToken accepts the b64token characters of RFC 6750 (and any visible ASCII Okta may use),
// so a token can never break a header.
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func parseTokenError(status int, body []byte) *TokenError {
	e := &TokenError{Status: status}
	var raw struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &raw) == nil && (raw.Error != "" || raw.Description != "") {
		e.Code = oneLine(raw.Error, 60)
		e.Description = oneLine(raw.Description, 300)
		return e
	}
	e.Description = oneLine(string(body), 200)
	return e
}

// jwtLike matches a compact JWS, the shape of a client assertion, DPoP proof or access token,
// so that a server echoing the request never puts one into an error message.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*`)

// oneLine makes outside text safe for one log line: no JWT, no control characters, at most
// max runes.
func oneLine(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = jwtLike.ReplaceAllString(s, "[redacted]")
	var b strings.Builder
	n := 0
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = n > 0
			continue
		}
		if n >= max {
			b.WriteString("…")
			break
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
