package oauth

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTokenResponse(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		want     tokenResponse
		wantCode string
		wantErr  string
	}{
		{name: "Okta", status: 200, body: `{"token_type":"DPoP","expires_in":3600,"access_token":"eyJ.a.b","scope":"okta.logs.read"}`,
			want: tokenResponse{AccessToken: "eyJ.a.b", TokenType: "DPoP", Lifetime: time.Hour, Scope: "okta.logs.read"}},
		{name: "expires_in as string", status: 200, body: `{"access_token":"t","token_type":"Bearer","expires_in":"120"}`,
			want: tokenResponse{AccessToken: "t", TokenType: "Bearer", Lifetime: 2 * time.Minute}},
		{name: "no expires_in", status: 200, body: `{"access_token":"t","token_type":"Bearer"}`,
			want: tokenResponse{AccessToken: "t", TokenType: "Bearer", Lifetime: defaultLifetime}},
		{name: "absurd expires_in", status: 200, body: `{"access_token":"t","expires_in":-5}`,
			want: tokenResponse{AccessToken: "t", Lifetime: defaultLifetime}},
		{name: "no token", status: 200, body: `{"token_type":"Bearer"}`, wantErr: "no access_token"},
		{name: "token breaks headers", status: 200, body: `{"access_token":"a\r\nX-Evil: 1"}`, wantErr: "characters"},
		{name: "HTML 200", status: 200, body: `<html>captive portal</html>`, wantErr: "not a JSON token response"},
		{name: "OAuth error", status: 401, body: `{"error":"invalid_client","error_description":"The client_assertion signature is invalid."}`,
			wantCode: "invalid_client", wantErr: "401 invalid_client: The client_assertion signature is invalid."},
		{name: "error text shortened to one line", status: 400, body: `{"error":"invalid_request","error_description":"a\nb\tc` + strings.Repeat("x", 400) + `"}`,
			wantCode: "invalid_request", wantErr: "a b c" + strings.Repeat("x", 295) + "…"},
		{name: "proxy page", status: 502, body: "<html>\n<b>Bad gateway</b></html>", wantErr: "502: <html> <b>Bad gateway</b></html>"},
		{name: "echoed JWT", status: 400, body: "assertion eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig rejected", wantErr: "assertion [redacted] rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTokenResponse(tt.status, []byte(tt.body))
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			var te *TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.status, te.Status)
			assert.Equal(t, tt.wantCode, te.Code)
			assert.Contains(t, err.Error(), tt.wantErr)
			if tt.status == 200 {
				assert.NotContains(t, err.Error(), "X-Evil", "a success body is never quoted")
			}
		})
	}
}

func TestResourceHint(t *testing.T) {
	h := func(v string) map[string][]string { return map[string][]string{"Www-Authenticate": {v}} }
	tests := []struct {
		status int
		header map[string][]string
		want   string
	}{
		{403, h(`Bearer error="insufficient_scope"`), "grant okta.logs.read"},
		{403, nil, "Read-only Administrator"},
		{401, h(`DPoP error="invalid_dpop_proof"`), "host clock"},
		{401, h(`Bearer error="invalid_token"`), "fresh access token was refused"},
		{500, nil, ""},
	}
	for _, tt := range tests {
		got := ResourceHint(tt.status, tt.header)
		if tt.want == "" {
			assert.Empty(t, got)
			continue
		}
		assert.Contains(t, got, tt.want)
	}
}
