package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoSecretLeaks runs the input every way it handles secrets (API token, OAuth private key
// and access token, proxy password, HEC token, splunkd session key), including failures, and
// greps everything it produced: stdout, stderr, checkpoints. None may hold a secret.
func TestNoSecretLeaks(t *testing.T) {
	const (
		proxyPW = "proxy-PW-leakcheck-41b2"
		access  = "eyJhbGciOi.ACCESS-leakcheck-88c1.sig"
	)
	f := newFakeOkta(t, 60)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	keyLines := strings.Split(strings.TrimSpace(keyPEM), "\n")

	// An org that accepts OAuth, and a proxy in front of everything.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/v1/token", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3600,"access_token":%q}`, access)
	})
	mux.HandleFunc("/api/v1/logs", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+access {
			r.Header.Set("Authorization", "SSWS "+token)
		}
		f.serve(w, r)
	})
	org := httptest.NewTLSServer(mux)
	defer org.Close()
	ca := writeCA(t, org)
	proxy := httptest.NewServer(&connectProxy{password: proxyPW})
	defer proxy.Close()

	var outputs []string
	dirs := []string{}
	collect := func(r result, dir string) {
		outputs = append(outputs, r.stdout, r.stderr)
		dirs = append(dirs, dir)
	}
	// 1. Splunk mode: an API-token stanza, an OAuth stanza behind the proxy, a revoked token.
	dir := t.TempDir()
	r := run(context.Background(), f.inputXML(dir,
		f.stanza("tok"),
		f.stanza("oauth", "org_url", org.URL, "ca_file", ca, "api_token", "", "auth_type", "oauth", "client_id", "0oa1",
			"private_key", keyPEM, "proxy_url", proxy.URL, "proxy_username", "bob", "proxy_password", proxyPW),
		f.stanza("revoked", "api_token", "00revoked-"+token[9:])))
	collect(r, dir)
	assert.Contains(t, r.stderr, "E0000011", "the revoked stanza failed")
	// 2. The proxy refusing a wrong password, briefly.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	dir = t.TempDir()
	r = run(ctx, f.inputXML(dir, f.stanza("badproxy", "proxy_url", proxy.URL, "proxy_username", "bob", "proxy_password", proxyPW+"x")))
	cancel()
	collect(r, dir)
	// 3. Validation failures.
	r = run(context.Background(), validationXML(map[string]string{"org_url": "http://acme.okta.com", "api_token": token}), "--validate-arguments")
	collect(r, "")
	// 4. Standalone to HEC, and with a wrong HEC token.
	h := httptest.NewServer(&fakeHEC{})
	defer h.Close()
	for _, ht := range []string{hecToken, "wrong-" + hecToken} {
		dir = t.TempDir()
		var out, errb bytes.Buffer
		env := map[string]string{"OKTA_API_TOKEN": token, "HEC_TOKEN": ht}
		Run(context.Background(), []string{"run", "--org-url", f.srv.URL, "--ca-file", f.caFile, "--checkpoint-dir", dir,
			"--start-date", base.Format(time.RFC3339), "--once", "--hec-url", h.URL, "--hec-ack=false", "--sink-retry-for", "1s"},
			strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
		outputs = append(outputs, out.String(), errb.String())
		dirs = append(dirs, dir)
	}

	secrets := append([]string{token, token[5:20], access, proxyPW, hecToken, "sessionkey123"}, keyLines[1:len(keyLines)-1]...)
	for i, o := range outputs {
		for _, s := range secrets {
			if strings.Contains(o, s) {
				t.Errorf("output %d holds a secret (%.12s...):\n%s", i, s, o)
			}
		}
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		require.NoError(t, filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			for _, s := range secrets {
				assert.NotContains(t, string(data), s, "checkpoint %s", path)
			}
			return nil
		}))
	}
}
