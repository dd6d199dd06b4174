// Package splunkdtest is a fake splunkd for tests: an httptest TLS server that speaks the
// REST endpoints package splunkd uses (storage/passwords, data/inputs, search export and
// KV-store collections) with splunkd's status codes and JSON error bodies.
package splunkdtest

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Request is one call the fake received, for assertions.
type Request struct {
	Method, Path string
	Form         map[string][]string
	Body         string
	Auth         string
}

// Server is the fake splunkd. Fields may be changed between calls under Lock/Unlock.
type Server struct {
	*httptest.Server
	SessionKey string
	App        string

	mu sync.Mutex
	// Passwords holds clear secrets by entity name "realm:user:".
	Passwords map[string]string
	// Inputs holds each input's settings by "scheme/name"; only known inputs can be edited.
	Inputs map[string]map[string]string
	// KV holds raw JSON documents by collection, then _key. A collection must exist to be used.
	KV map[string]map[string][]byte
	// ExportBody is written as is in answer to a search export.
	ExportBody string
	// Fail, when it returns a status, answers a request with it instead (failure injection).
	Fail     func(r *http.Request) int
	requests []Request
}

// New starts a fake splunkd for app that accepts only sessionKey; it closes with the test.
func New(t testing.TB, app, sessionKey string) *Server {
	s := &Server{
		SessionKey: sessionKey, App: app,
		Passwords: map[string]string{}, Inputs: map[string]map[string]string{},
		KV: map[string]map[string][]byte{},
	}
	mux := http.NewServeMux()
	ns := "/servicesNS/nobody/{app}/"
	mux.HandleFunc("GET "+ns+"storage/passwords/{entity}", s.getPassword)
	mux.HandleFunc("POST "+ns+"storage/passwords", s.createPassword)
	mux.HandleFunc("POST "+ns+"storage/passwords/{entity}", s.updatePassword)
	mux.HandleFunc("POST "+ns+"data/inputs/{scheme}/{name}", s.editInput)
	mux.HandleFunc("POST "+ns+"search/v2/jobs/export", s.export)
	mux.HandleFunc("GET "+ns+"storage/collections/data/{coll}/{key}", s.kvGet)
	mux.HandleFunc("POST "+ns+"storage/collections/data/{coll}/{key}", s.kvUpdate)
	mux.HandleFunc("POST "+ns+"storage/collections/data/{coll}", s.kvCreate)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		_ = r.ParseForm()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Form: r.PostForm, Body: string(body), Auth: r.Header.Get("Authorization")})
		fail := s.Fail
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Splunk "+s.SessionKey {
			writeMessages(w, http.StatusUnauthorized, "WARN", "call not properly authenticated")
			return
		}
		if r.URL.Query().Get("output_mode") != "json" {
			writeMessages(w, http.StatusBadRequest, "ERROR", "fake splunkd speaks output_mode=json only")
			return
		}
		if fail != nil {
			if code := fail(r); code != 0 {
				writeMessages(w, code, "ERROR", fmt.Sprintf("injected %d", code))
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
	// TLS tests make clients refuse this server on purpose; its handshake complaints are noise.
	s.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// Lock guards the exported maps while a test changes them.
func (s *Server) Lock() { s.mu.Lock() }

// Unlock releases Lock.
func (s *Server) Unlock() { s.mu.Unlock() }

// Requests returns the calls received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func writeMessages(w http.ResponseWriter, code int, typ, text string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"messages": []map[string]string{{"type": typ, "text": text}}})
}

func (s *Server) appOK(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("app") != s.App {
		writeMessages(w, http.StatusNotFound, "ERROR", "Application does not exist: "+r.PathValue("app"))
		return false
	}
	return true
}

func splitEntity(entity string) (realm, user string, ok bool) {
	if !strings.HasSuffix(entity, ":") {
		return "", "", false
	}
	realm, user, ok = strings.Cut(strings.TrimSuffix(entity, ":"), ":")
	return realm, user, ok
}

func (s *Server) getPassword(w http.ResponseWriter, r *http.Request) {
	if !s.appOK(w, r) {
		return
	}
	entity := r.PathValue("entity")
	s.mu.Lock()
	pw, ok := s.Passwords[entity]
	s.mu.Unlock()
	realm, user, valid := splitEntity(entity)
	if !ok || !valid {
		writeMessages(w, http.StatusNotFound, "ERROR", "Could not find object id="+entity)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"entry": []any{map[string]any{
		"name": entity,
		"content": map[string]any{
			"clear_password": pw, "encr_password": "$7$fake", "password": "********",
			"realm": realm, "username": user,
		},
	}}})
}

func (s *Server) createPassword(w http.ResponseWriter, r *http.Request) {
	if !s.appOK(w, r) {
		return
	}
	name, pw, realm := r.PostForm.Get("name"), r.PostForm.Get("password"), r.PostForm.Get("realm")
	if name == "" || pw == "" {
		writeMessages(w, http.StatusBadRequest, "ERROR", "Missing argument: name or password")
		return
	}
	entity := realm + ":" + name + ":"
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.Passwords[entity]; ok {
		writeMessages(w, http.StatusConflict, "ERROR", "An object with name="+entity+" already exists")
		return
	}
	s.Passwords[entity] = pw
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"entry":[]}`)
}

func (s *Server) updatePassword(w http.ResponseWriter, r *http.Request) {
	if !s.appOK(w, r) {
		return
	}
	entity := r.PathValue("entity")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.Passwords[entity]; !ok {
		writeMessages(w, http.StatusNotFound, "ERROR", "Could not find object id="+entity)
		return
	}
	s.Passwords[entity] = r.PostForm.Get("password")
	_, _ = io.WriteString(w, `{"entry":[]}`)
}

func (s *Server) editInput(w http.ResponseWriter, r *http.Request) {
	if !s.appOK(w, r) {
		return
	}
	id := r.PathValue("scheme") + "/" + r.PathValue("name")
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.Inputs[id]
	if !ok {
		writeMessages(w, http.StatusNotFound, "ERROR", "Could not find object id="+r.PathValue("name"))
		return
	}
	for k, v := range r.PostForm {
		in[k] = v[len(v)-1]
	}
	_, _ = io.WriteString(w, `{"entry":[]}`)
}

func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	if !s.appOK(w, r) {
		return
	}
	s.mu.Lock()
	body := s.ExportBody
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, body)
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request) map[string][]byte {
	c, ok := s.KV[r.PathValue("coll")]
	if !ok {
		writeMessages(w, http.StatusNotFound, "ERROR", "Collection: "+r.PathValue("coll")+" not found")
	}
	return c
}

func (s *Server) kvGet(w http.ResponseWriter, r *http.Request) {
	if !s.appOK(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.collection(w, r)
	if c == nil {
		return
	}
	doc, ok := c[r.PathValue("key")]
	if !ok {
		writeMessages(w, http.StatusNotFound, "ERROR", "Could not find object.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}

// store keeps doc with _key (and _user, as splunkd adds) set.
func store(c map[string][]byte, key string, body string) error {
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil || m == nil {
		return fmt.Errorf("document is not a JSON object")
	}
	m["_key"], m["_user"] = key, "nobody"
	doc, _ := json.Marshal(m)
	c[key] = doc
	return nil
}

func (s *Server) kvUpdate(w http.ResponseWriter, r *http.Request) {
	if !s.appOK(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.collection(w, r)
	if c == nil {
		return
	}
	key := r.PathValue("key")
	if _, ok := c[key]; !ok {
		writeMessages(w, http.StatusNotFound, "ERROR", "Could not find object.")
		return
	}
	if err := store(c, key, string(body)); err != nil {
		writeMessages(w, http.StatusBadRequest, "ERROR", err.Error())
		return
	}
	_, _ = fmt.Fprintf(w, `{"_key":%q}`, key)
}

func (s *Server) kvCreate(w http.ResponseWriter, r *http.Request) {
	if !s.appOK(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	var k struct {
		Key string `json:"_key"`
	}
	if err := json.Unmarshal(body, &k); err != nil || k.Key == "" {
		writeMessages(w, http.StatusBadRequest, "ERROR", "fake splunkd wants a _key")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.collection(w, r)
	if c == nil {
		return
	}
	if _, ok := c[k.Key]; ok {
		writeMessages(w, http.StatusConflict, "ERROR", "A document with the same key already exists")
		return
	}
	if err := store(c, k.Key, string(body)); err != nil {
		writeMessages(w, http.StatusBadRequest, "ERROR", err.Error())
		return
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = fmt.Fprintf(w, `{"_key":%q}`, k.Key)
}
