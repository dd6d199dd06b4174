// Package sameorigintest serves the redirects a client carrying a credential must refuse, and
// the other origins they point to, so that each client's test proves nothing reaches them.
package sameorigintest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Target is an origin a redirect points to.
type Target struct{ Name, URL string }

// Elsewhere records the requests that reached the other origins.
type Elsewhere struct {
	mu      sync.Mutex
	reached []string
}

// Take returns the requests ("METHOD path") that reached another origin since the last call.
func (e *Elsewhere) Take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.reached
	e.reached = nil
	return r
}

// Others starts servers that answer with reply and returns the origins a redirect from a TLS
// server on 127.0.0.1 must not reach: another port (TLS), plain http, another host name.
func Others(t testing.TB, reply http.HandlerFunc) ([]Target, *Elsewhere) {
	e := &Elsewhere{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.reached = append(e.reached, r.Method+" "+r.URL.Path)
		e.mu.Unlock()
		reply(w, r)
	})
	plain := httptest.NewServer(h)
	t.Cleanup(plain.Close)
	tlsSrv := httptest.NewTLSServer(h)
	t.Cleanup(tlsSrv.Close)
	port := plain.URL[strings.LastIndexByte(plain.URL, ':'):]
	return []Target{
		{"another port", tlsSrv.URL},
		{"plain http", "http://127.0.0.1" + port},
		{"another host", "http://localhost" + port},
	}, e
}

// Redirector starts a TLS server that answers every request with a 307 to target plus the
// request's path and query, and counts the requests it got.
func Redirector(t testing.TB, target string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Location", target+r.URL.RequestURI())
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}
