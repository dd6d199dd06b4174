package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/oktasight/oktasight/app/backfill"
	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/oktasight/oktasight/app/inputconf"
	"github.com/oktasight/oktasight/app/modinput"
	"github.com/oktasight/oktasight/app/oauth"
	"github.com/oktasight/oktasight/app/okta"
	"github.com/oktasight/oktasight/app/poll"
	"github.com/oktasight/oktasight/app/secrets"
	"github.com/oktasight/oktasight/app/splunkd"
	"github.com/oktasight/oktasight/app/splunklog"
)

const usage = `oktainput streams the Okta System Log into Splunk.

Splunk runs it as a modular input:
  oktainput --scheme               print the input's scheme (introspection)
  oktainput --validate-arguments   validate an input's settings (XML on stdin)
  oktainput                        run the inputs described by the XML on stdin

Standalone, without a Splunk forwarder:
  oktainput run --org-url https://acme.okta.com --token-env OKTA_API_TOKEN \
      --checkpoint-dir DIR [--out events.ndjson | --hec-url URL | --scs-tenant T] [--start-date -7d] [--once] ...
  oktainput backfill --org-url ... --checkpoint-dir DIR --since 2026-11-20T03:00:00Z --until 2026-11-20T09:00:00Z
      [--splunkd-url https://splunk:8089]   read a closed range again, skipping events already indexed
  oktainput run -h, oktainput backfill -h   all flags
`

// Run is the whole command; main only wires the process to it, so tests drive it directly.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	log := slog.New(splunklog.New(stderr, logLevel(getenv("OKTAINPUT_LOG_LEVEL"))))
	switch {
	case len(args) == 0:
		return runSplunk(ctx, stdin, stdout, getenv, log)
	case args[0] == "--scheme":
		if err := modinput.WriteScheme(stdout, scheme()); err != nil {
			log.Error("oktainput scheme failed", "error", err)
			return 1
		}
		return 0
	case args[0] == "--validate-arguments":
		return validate(ctx, stdin, stdout, getenv, log)
	case args[0] == "run":
		return runStandalone(ctx, args[1:], stdout, stderr, getenv, log)
	case args[0] == "backfill":
		return runBackfill(ctx, args[1:], stdout, stderr, getenv, log)
	case args[0] == "--version" || args[0] == "version":
		fmt.Fprintln(stdout, "oktainput", version)
		return 0
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ERROR oktainput: unknown arguments %q\n%s", strings.Join(args, " "), usage)
		return 2
	}
}

func logLevel(v string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// scheme is the introspection scheme splunkd reads once per restart.
func scheme() modinput.Scheme {
	str := func(name, title, desc string, required bool) modinput.Arg {
		return modinput.Arg{Name: name, Title: title, Description: desc, DataType: "string", RequiredOnCreate: required, RequiredOnEdit: false}
	}
	num := func(name, title, desc string) modinput.Arg {
		return modinput.Arg{Name: name, Title: title, Description: desc, DataType: "number"}
	}
	return modinput.Scheme{
		Title:                 "Okta System Log",
		Description:           "Streams every Okta System Log event into Splunk, exactly as Okta sent it, once.",
		UseExternalValidation: true,
		UseSingleInstance:     false,
		StreamingMode:         "xml",
		Args: []modinput.Arg{
			str("org_url", "Okta org URL", "Your Okta org, e.g. https://acme.okta.com (https, host name only).", true),
			str("api_token", "API token", "With auth_type=api_token (the default): an Okta API token of an admin who can read the System Log (Security > API > Tokens). Kept in Splunk's encrypted store.", false),
			str("start_date", "Start date", "Where a new input starts: ISO 8601 (2026-11-01T00:00:00Z) or relative (-7d). Default: 7 days ago; at most 90 days.", false),
			num("poll_interval", "Poll interval", "Seconds between polls once caught up (1-3600, default 10)."),
			num("page_limit", "Page size", "Events per request (1-1000, default 1000)."),
			num("rate_limit_pct", "Rate-limit share", "Percent of the org's /api/v1/logs rate limit this input may use (1-100, default 50)."),
			str("filter", "Filter", "Optional Okta SCIM filter, e.g. eventType sw \"user.session\".", false),
			str("q", "Keywords", "Optional keyword search: at most 10 words of at most 40 characters.", false),
			str("ca_file", "CA file", "Optional PEM file of CA certificates to trust for Okta, e.g. behind a TLS-inspecting proxy.", false),
			str("auth_type", "Authentication", "api_token (default) or oauth: an Okta API Services app with a private_key_jwt client assertion.", false),
			str("client_id", "OAuth client ID", "With auth_type=oauth: the Client ID of the Okta API Services app granted okta.logs.read.", false),
			str("private_key", "OAuth private key", "With auth_type=oauth: the app's private key, PEM or JWK (RSA, or EC on P-256, P-384 or P-521). Kept in Splunk's encrypted store.", false),
			str("key_id", "OAuth key ID", "With auth_type=oauth: the kid of the key registered on the app (read from a JWK when it has one).", false),
			str("dpop", "DPoP", "With auth_type=oauth: 1 when the app requires Demonstrating Proof of Possession (DPoP) tokens.", false),
			str("scopes", "OAuth scopes", "With auth_type=oauth: scopes to request, default okta.logs.read.", false),
			str("proxy_url", "Proxy", "Optional http:// or https:// proxy for Okta, e.g. http://proxy.corp:3128. Default: the HTTPS_PROXY environment.", false),
			str("proxy_username", "Proxy user", "Optional user name for the proxy.", false),
			str("proxy_password", "Proxy password", "Optional proxy password. Kept in Splunk's encrypted store.", false),
			str("backfill_since", "Backfill from", "Optional: with backfill_until, a past range (absolute ISO 8601) read again beside polling, e.g. to fill an outage.", false),
			str("backfill_until", "Backfill until", "Optional: end of the backfill range (exclusive), at least 2 minutes ago.", false),
			str("backfill_dedup", "Backfill dedup", "index (default: skip events already in the input's index) or none.", false),
			str("checkpoint_store", "Checkpoint store", "file (default: splunkd's checkpoint_dir) or kvstore (the app's KV store, for inputs that move between forwarders or search-head-cluster members).", false),
		},
	}
}

// runSplunk is scenario 3 of the modular-input protocol: configuration XML on stdin, events
// on stdout. splunkd closes stdin after the configuration; that is not a request to stop.
func runSplunk(ctx context.Context, stdin io.Reader, stdout io.Writer, getenv func(string) string, log *slog.Logger) int {
	ctx, stopWatch := watchParent(ctx, log) // stop_*.go: splunkd gone without a signal
	defer stopWatch()
	cfg, err := modinput.ParseInputConfig(stdin)
	if err != nil {
		log.Error("oktainput cannot read its configuration from splunkd", "error", err)
		return 1
	}
	sp, err := splunkd.New(splunkd.Config{ServerURI: cfg.ServerURI, SessionKey: cfg.SessionKey, App: appName,
		SplunkHome: getenv("SPLUNK_HOME"), Logger: log})
	if err != nil {
		log.Error("oktainput cannot talk to splunkd (needed for the encrypted secrets and the KV store)", "error", oneLine(err))
		return 1
	}
	resolver := secretResolver(sp)
	out := bufio.NewWriterSize(stdout, 1<<20)
	ew := modinput.NewEventWriter(out)
	defer func() {
		if err := ew.Close(); err != nil {
			log.Error("oktainput closing the event stream", "error", err)
		}
	}()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	// fail logs why a stanza stopped and counts it, unless a stop (SIGTERM, SIGINT) caused
	// it: splunkd stops and restarts inputs at any moment (after a REST edit, while the input
	// still reads its secrets), and a stop is never a failure.
	fail := func(stanza, msg string, err error) {
		if ctx.Err() != nil {
			log.Info("oktainput stopped on request", "stanza", stanza)
			return
		}
		log.Error(msg, "stanza", stanza, "error", oneLine(err))
		mu.Lock()
		failed++
		mu.Unlock()
	}
	for _, st := range cfg.Stanzas {
		params, err := resolver.Resolve(ctx, st.Name, st.Params, true)
		if err != nil {
			fail(st.Name, "oktainput stopped: its secrets are not available", err)
			continue
		}
		s, err := inputconf.FromParams(st.Name, params)
		if err != nil {
			fail(st.Name, "oktainput stopped: invalid settings", err)
			continue
		}
		var store checkpoint.Store = &checkpoint.FileStore{Dir: cfg.CheckpointDir}
		if s.CheckpointStore == inputconf.CheckpointKVStore {
			store = &checkpoint.KVStore{KV: sp}
		}
		sink := poll.NewSplunkSink(ew, st.Name, s.Source(), inputconf.Sourcetype, s.Index, s.Host)
		if !s.BackfillSince.IsZero() {
			// A backfill runs beside polling with its own client and sink (sharing the stream).
			bsink := poll.NewSplunkSink(ew, st.Name, s.Source(), inputconf.Sourcetype, s.Index, s.Host)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := stanzaBackfill(ctx, s, store, bsink, sp, log); err != nil {
					fail(s.Name, "oktainput backfill stopped", err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := runInput(ctx, s, store, sink, log); err != nil {
				fail(s.Name, "oktainput stopped", err)
			}
		}()
	}
	wg.Wait()
	if failed > 0 {
		return 1
	}
	return 0
}

// runInput polls one input until it stops.
func runInput(ctx context.Context, s *inputconf.Settings, store checkpoint.Store, sink poll.Sink, log *slog.Logger) error {
	since, warn, err := inputconf.ResolveStart(s.StartDate, time.Now())
	if err != nil {
		return fmt.Errorf("start_date: %w", err)
	}
	if warn != "" {
		log.Warn("oktainput "+warn, "stanza", s.Name)
	}
	client, err := newClient(s, log)
	if err != nil {
		return err
	}
	p := poll.New(poll.Config{
		Key: s.Name, OrgURL: s.OrgURL, StartDate: s.StartDate, Since: since,
		Filter: s.Filter, Q: s.Q, PageLimit: s.PageLimit, PollInterval: s.PollInterval,
		ExitWhenCaughtUp: s.ExitWhenCaughtUp, StopGrace: s.StopGrace,
	}, client, store, sink, log, nil)
	return p.Run(ctx)
}

// stanzaBackfill reads the stanza's backfill range once, skipping events already in its index
// (found with an export search on this splunkd) unless backfill_dedup = none.
func stanzaBackfill(ctx context.Context, s *inputconf.Settings, store checkpoint.Store, sink poll.Sink, sp *splunkd.Client, log *slog.Logger) error {
	cfg := backfill.Config{Stanza: s.Name, OrgURL: s.OrgURL, Since: s.BackfillSince, Until: s.BackfillUntil,
		PageLimit: s.PageLimit, Filter: s.Filter, Q: s.Q}
	if err := cfg.Validate(time.Now()); err != nil {
		return err
	}
	if done, err := backfill.Completed(ctx, cfg, store); err == nil && done {
		return nil // logged once, when it completed
	}
	var known backfill.Known = backfill.KnownNone{}
	if s.BackfillDedup == "index" {
		index := s.Index
		if index == "" {
			index = "main" // where splunkd puts events of an input without an index
		}
		k, err := backfill.KnownFromExport(ctx, sp, index, inputconf.Sourcetype, cfg.Since, cfg.Until)
		if err != nil {
			return fmt.Errorf("cannot list the events already in index %s (set backfill_dedup = none to write them all): %w", index, err)
		}
		known = k
	}
	client, err := newClient(s, log)
	if err != nil {
		return err
	}
	_, err = backfill.Run(ctx, cfg, client, sink, known, store, log)
	return err
}

// newClient is the Okta client of an input; tune, if any, adjusts its configuration (the
// validation's shorter budget).
func newClient(s *inputconf.Settings, log *slog.Logger, tune ...func(*okta.Config)) (*okta.Client, error) {
	tr, err := transport(s)
	if err != nil {
		return nil, err
	}
	var auth http.RoundTripper = okta.NewSSWSTransport(s.APIToken, tr)
	if s.AuthType == inputconf.AuthOAuth {
		auth, err = oauth.NewTransport(oauth.Config{OrgURL: s.OrgURL, ClientID: s.ClientID, PrivateKey: []byte(s.PrivateKey),
			KeyID: s.KeyID, Scopes: s.Scopes, DPoP: s.DPoP, Base: tr, Logger: log.With("stanza", s.Name)})
		if err != nil {
			return nil, fmt.Errorf("oauth: %w", err)
		}
	}
	cfg := okta.Config{
		OrgURL:       s.OrgURL,
		HTTPClient:   &http.Client{Transport: auth},
		RateLimitPct: s.RateLimitPct,
		Logger:       log.With("stanza", s.Name),
		UserAgent:    "oktasight-oktainput/" + version,
	}
	for _, t := range tune {
		t(&cfg)
	}
	return okta.New(cfg)
}

// transport is an HTTP transport with sane timeouts, the input's proxy_url (else the
// standard HTTPS_PROXY / NO_PROXY environment) and, when ca_file is set, those CAs trusted
// besides the system's.
func transport(s *inputconf.Settings) (*http.Transport, error) {
	proxy, err := s.ProxyFunc()
	if err != nil {
		return nil, err
	}
	caFile := s.CAFile
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		// A proxy's 407 or 403 names its status and setting, and stops the input.
		OnProxyConnectResponse: s.CheckProxyAnswer,
	}
	if caFile == "" {
		return tr, nil
	}
	pool, err := trustPool(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	tr.TLSClientConfig.RootCAs = pool
	return tr, nil
}

// trustPool is the system's CAs plus those in the PEM file caFile.
func trustPool(caFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// appName is the Splunk app: the realm of its secrets and the namespace of its KV store.
const appName = "oktasight"

func secretResolver(sp *splunkd.Client) *secrets.Resolver {
	return &secrets.Resolver{Store: sp, Realm: appName, Scheme: "oktainput", Params: inputconf.Secrets}
}

func hasMask(params map[string]string) bool {
	for _, p := range inputconf.Secrets {
		if strings.TrimSpace(params[p]) == secrets.Mask {
			return true
		}
	}
	return false
}

// oneLine joins a multi-error into one line: splunkd would split a multi-line message.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
