package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/oktasight/oktasight/app/backfill"
	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/oktasight/oktasight/app/hec"
	"github.com/oktasight/oktasight/app/inputconf"
	"github.com/oktasight/oktasight/app/modinput"
	"github.com/oktasight/oktasight/app/poll"
	"github.com/oktasight/oktasight/app/scs"
	"github.com/oktasight/oktasight/app/splunkd"
)

// standaloneFlags are the flags `run` and `backfill` share: where Okta is, how to reach it and
// where the events go. Each command has its own FlagSet: the SCS SDK's glog registers flags on
// the default one.
type standaloneFlags struct {
	orgURL, tokenEnv, cpDir, outPath, pageLimit, ratePct, filter, q, caFile, name *string
	authType, clientID, keyFile, keyID, proxyURL, proxyUser, proxyPassEnv         *string
	dpop                                                                          *bool
	hecURL, hecTokenEnv, hecIndex, hecSource, hecHost, hecCAFile                  *string
	hecAck, hecGzip                                                               *bool
	hecAckTimeout, retryFor, stopGrace                                            *time.Duration
	hecBatchBytes                                                                 *int
	format                                                                        *string
	scsTenant, scsTokenEnv, scsHostname                                           *string
}

func addStandaloneFlags(fs *flag.FlagSet) *standaloneFlags {
	return &standaloneFlags{
		orgURL:        fs.String("org-url", "", "Okta org URL, e.g. https://acme.okta.com (required)"),
		tokenEnv:      fs.String("token-env", "OKTA_API_TOKEN", "environment variable holding the Okta API token (--auth-type api_token)"),
		cpDir:         fs.String("checkpoint-dir", "", "directory for the checkpoint (required)"),
		outPath:       fs.String("out", "-", "output file (appended), - for stdout; not used with --hec-url or --scs-tenant"),
		format:        fs.String("format", "ndjson", "output format: ndjson (one Okta event per line) or xml (the modular-input stream splunkd reads)"),
		pageLimit:     fs.String("page-limit", "", "events per request, 1-1000 (default 1000)"),
		ratePct:       fs.String("rate-limit-pct", "", "percent of the org's rate limit to use, 1-100 (default 50)"),
		filter:        fs.String("filter", "", "Okta SCIM filter"),
		q:             fs.String("q", "", "keyword search"),
		caFile:        fs.String("ca-file", "", "PEM file of extra CA certificates to trust for Okta"),
		name:          fs.String("name", "standalone", "input name (the checkpoint key)"),
		authType:      fs.String("auth-type", "api_token", "api_token or oauth (an Okta API Services app, private_key_jwt)"),
		clientID:      fs.String("client-id", "", "OAuth: the API Services app's client ID"),
		keyFile:       fs.String("private-key-file", "", "OAuth: file holding the app's private key (PEM or JWK)"),
		keyID:         fs.String("key-id", "", "OAuth: kid of the registered public key"),
		dpop:          fs.Bool("dpop", false, "OAuth: the app requires DPoP-bound tokens"),
		proxyURL:      fs.String("proxy-url", "", "http(s) proxy for Okta (default: HTTPS_PROXY / NO_PROXY)"),
		proxyUser:     fs.String("proxy-username", "", "proxy user name"),
		proxyPassEnv:  fs.String("proxy-password-env", "", "environment variable holding the proxy password"),
		hecURL:        fs.String("hec-url", "", "send events to Splunk HTTP Event Collector at this URL, e.g. https://splunk:8088"),
		hecTokenEnv:   fs.String("hec-token-env", "HEC_TOKEN", "environment variable holding the HEC token"),
		hecIndex:      fs.String("hec-index", "", "HEC: index (default: the token's default index)"),
		hecCAFile:     fs.String("hec-ca-file", "", "HEC: PEM file of CA certificates to trust for the HEC endpoint"),
		hecSource:     fs.String("hec-source", "", "HEC/SCS: source (default okta:<org host>)"),
		hecHost:       fs.String("hec-host", "", "HEC/SCS: host field"),
		hecAck:        fs.Bool("hec-ack", true, "HEC: wait for indexer acknowledgement before saving the checkpoint"),
		hecGzip:       fs.Bool("hec-gzip", true, "HEC: gzip request bodies"),
		hecBatchBytes: fs.Int("hec-batch-bytes", 1<<20, "HEC: largest request body before compression (keep under the server's max_content_length)"),
		hecAckTimeout: fs.Duration("hec-ack-timeout", 5*time.Minute, "HEC: resend a batch not acknowledged within this"),
		retryFor:      fs.Duration("sink-retry-for", 15*time.Minute, "HEC/SCS: give up on a page after retrying this long"),
		stopGrace:     fs.Duration("stop-grace", poll.DefaultStopGrace, "on SIGTERM/SIGINT, how long the page in hand may still take to reach the sink; a page not delivered by then is read again at the next start"),
		scsTenant:     fs.String("scs-tenant", "", "send events to Splunk Cloud Services ingest for this tenant"),
		scsTokenEnv:   fs.String("scs-token-env", "SCS_TOKEN", "environment variable holding the SCS access token"),
		scsHostname:   fs.String("scs-hostname", "", "SCS host name (default scp.splunk.com)"),
	}
}

// settings turns the flags into an input's settings, validated like a stanza's.
func (f *standaloneFlags) settings(getenv func(string) string, extra map[string]string) (*inputconf.Settings, error) {
	params := map[string]string{
		"org_url": *f.orgURL, "page_limit": *f.pageLimit, "rate_limit_pct": *f.ratePct,
		"filter": *f.filter, "q": *f.q, "ca_file": *f.caFile, "auth_type": *f.authType,
		"proxy_url": *f.proxyURL, "proxy_username": *f.proxyUser,
	}
	for k, v := range extra {
		params[k] = v
	}
	if *f.proxyPassEnv != "" {
		params["proxy_password"] = getenv(*f.proxyPassEnv)
	}
	switch *f.authType {
	case inputconf.AuthOAuth:
		params["client_id"], params["key_id"] = *f.clientID, *f.keyID
		if *f.dpop {
			params["dpop"] = "1"
		}
		if *f.keyFile != "" {
			key, err := os.ReadFile(*f.keyFile)
			if err != nil {
				return nil, fmt.Errorf("--private-key-file: %w", err)
			}
			params["private_key"] = string(key)
		}
	default:
		params["api_token"] = getenv(*f.tokenEnv)
	}
	s, err := inputconf.FromParams("oktainput://"+*f.name, params)
	if err != nil {
		msg := oneLine(err)
		if *f.authType != inputconf.AuthOAuth && getenv(*f.tokenEnv) == "" {
			msg = strings.ReplaceAll(msg, "api_token: is required", "api_token: is required: set the environment variable "+*f.tokenEnv)
		}
		return nil, errors.New(msg)
	}
	if *f.stopGrace <= 0 {
		return nil, fmt.Errorf("--stop-grace: %s is not a positive duration (e.g. 30s)", *f.stopGrace)
	}
	s.StopGrace = *f.stopGrace
	return s, nil
}

// sink is where the events go: HEC, SCS or an NDJSON file; close releases it.
func (f *standaloneFlags) sink(s *inputconf.Settings, stdout io.Writer, getenv func(string) string, log *slog.Logger) (sink poll.Sink, close func(), err error) {
	source := *f.hecSource
	if source == "" {
		source = s.Source()
	}
	switch {
	case *f.hecURL != "" && *f.scsTenant != "":
		return nil, nil, errors.New("--hec-url and --scs-tenant: choose one destination")
	case *f.hecURL != "":
		tok := getenv(*f.hecTokenEnv)
		if tok == "" {
			return nil, nil, fmt.Errorf("--hec-url: set the HEC token in the environment variable %s", *f.hecTokenEnv)
		}
		hc, err := httpClientTrusting(*f.hecCAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--hec-ca-file: %w", err)
		}
		h, err := hec.New(hec.Config{URL: *f.hecURL, Token: tok, Index: *f.hecIndex, Source: source, Sourcetype: inputconf.Sourcetype, HTTPClient: hc,
			Host: *f.hecHost, UseACK: *f.hecAck, BatchBytes: *f.hecBatchBytes, DisableGzip: !*f.hecGzip, AckTimeout: *f.hecAckTimeout, RetryFor: *f.retryFor, Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("hec: %w", err)
		}
		return h, func() {}, nil
	case *f.scsTenant != "":
		tok := getenv(*f.scsTokenEnv)
		if tok == "" {
			return nil, nil, fmt.Errorf("--scs-tenant: set the SCS access token in the environment variable %s", *f.scsTokenEnv)
		}
		c, err := scs.New(scs.Config{Tenant: *f.scsTenant, Hostname: *f.scsHostname, Token: tok, Source: source,
			Sourcetype: inputconf.Sourcetype, Host: *f.hecHost, RetryFor: *f.retryFor, Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("scs: %w", err)
		}
		return c, func() {}, nil
	}
	if *f.format != "ndjson" && *f.format != "xml" {
		return nil, nil, fmt.Errorf("--format: want ndjson or xml, got %q", *f.format)
	}
	var w io.Writer = stdout
	closeOut := func() {}
	if *f.outPath != "-" {
		out, err := os.OpenFile(*f.outPath, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("--out: %w", err)
		}
		if *f.format == "ndjson" {
			if err := dropTornTail(out, log); err != nil {
				out.Close()
				return nil, nil, fmt.Errorf("--out: %w", err)
			}
		}
		w, closeOut = out, func() { out.Close() }
	}
	if *f.format == "ndjson" {
		return poll.NewNDJSONSink(w), closeOut, nil
	}
	// The modular-input stream, exactly as splunkd would read it from this input.
	ew := modinput.NewEventWriter(bufio.NewWriterSize(w, 1<<20))
	return poll.NewSplunkSink(ew, s.Name, source, inputconf.Sourcetype, *f.hecIndex, *f.hecHost), func() {
		if err := ew.Close(); err != nil {
			log.Error("oktainput closing the event stream", "error", err)
		}
		closeOut()
	}, nil
}

// runStandalone polls one org outside Splunk, writing NDJSON, or to HEC or SCS.
func runStandalone(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, log *slog.Logger) int {
	fs := flag.NewFlagSet("oktainput run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := addStandaloneFlags(fs)
	startDate := fs.String("start-date", "", "ISO 8601 or relative (-7d); default 7 days ago")
	pollEvery := fs.String("poll-interval", "", "seconds between polls once caught up (default 10)")
	once := fs.Bool("once", false, "exit once caught up instead of polling forever")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *f.cpDir == "" {
		fmt.Fprintln(stderr, "ERROR oktainput run: --checkpoint-dir is required")
		return 2
	}
	extra := map[string]string{"start_date": *startDate, "poll_interval": *pollEvery}
	if *once {
		extra["interval"] = "once"
	}
	s, err := f.settings(getenv, extra)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR oktainput run: %s\n", err)
		return 2
	}
	sink, closeSink, err := f.sink(s, stdout, getenv, log)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR oktainput run: %s\n", oneLine(err))
		return 2
	}
	defer closeSink()
	if err := runInput(ctx, s, &checkpoint.FileStore{Dir: *f.cpDir}, sink, log); err != nil {
		if ctx.Err() != nil { // a stop is not a failure
			log.Info("oktainput stopped on request", "stanza", s.Name)
			return 0
		}
		log.Error("oktainput stopped", "stanza", s.Name, "error", oneLine(err))
		return 1
	}
	return 0
}

// runBackfill reads a closed time range with bounded requests, skipping events already in
// the index when splunkd can be asked.
func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, log *slog.Logger) int {
	fs := flag.NewFlagSet("oktainput backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := addStandaloneFlags(fs)
	since := fs.String("since", "", "start of the range, ISO 8601 (required)")
	until := fs.String("until", "", "end of the range (exclusive), ISO 8601, at least 2 minutes ago (required)")
	splunkdURL := fs.String("splunkd-url", "", "splunkd management URL, e.g. https://splunk:8089, to skip events already indexed")
	splunkdTokenEnv := fs.String("splunkd-token-env", "SPLUNKD_TOKEN", "environment variable holding a splunkd session key or token")
	index := fs.String("index", "okta", "index to check for events already indexed")
	sourcetype := fs.String("sourcetype", inputconf.Sourcetype, "sourcetype to check for events already indexed")
	noDedup := fs.Bool("no-dedup", false, "write every event of the range, even those already indexed")
	redo := fs.Bool("redo", false, "read a range an earlier backfill completed again")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		if code == 1 && ctx.Err() != nil { // a stop is not a failure; the next run resumes
			log.Info("oktainput backfill stopped on request; run it again to resume")
			return 0
		}
		fmt.Fprintf(stderr, "ERROR oktainput backfill: "+format+"\n", a...)
		return code
	}
	if *f.cpDir == "" {
		return fail(2, "--checkpoint-dir is required")
	}
	from, err := backfill.ParseBound(*since)
	if err != nil {
		return fail(2, "--since: %v", err)
	}
	to, err := backfill.ParseBound(*until)
	if err != nil {
		return fail(2, "--until: %v", err)
	}
	s, err := f.settings(getenv, nil)
	if err != nil {
		return fail(2, "%s", err)
	}
	cfg := backfill.Config{Stanza: s.Name, OrgURL: s.OrgURL, Since: from, Until: to, PageLimit: s.PageLimit, Filter: s.Filter, Q: s.Q, Redo: *redo}
	if err := cfg.Validate(time.Now()); err != nil {
		return fail(2, "%v", err)
	}
	store := &checkpoint.FileStore{Dir: *f.cpDir}
	if done, err := backfill.Completed(ctx, cfg, store); err == nil && done && !*redo {
		log.Info("oktainput backfill already done", "stanza", s.Name, "since", from.Format(time.RFC3339Nano), "until", to.Format(time.RFC3339Nano))
		return 0
	}
	var known backfill.Known = backfill.KnownNone{}
	if *splunkdURL != "" && !*noDedup {
		sp, err := splunkd.New(splunkd.Config{ServerURI: *splunkdURL, SessionKey: getenv(*splunkdTokenEnv), App: appName,
			SplunkHome: getenv("SPLUNK_HOME"), Logger: log})
		if err == nil {
			known, err = backfill.KnownFromExport(ctx, sp, *index, *sourcetype, from, to)
		}
		if err != nil {
			return fail(1, "cannot list the events already indexed (use --no-dedup to write them all): %s", oneLine(err))
		}
	}
	client, err := newClient(s, log)
	if err != nil {
		return fail(1, "%s", oneLine(err))
	}
	sink, closeSink, err := f.sink(s, stdout, getenv, log)
	if err != nil {
		return fail(2, "%s", oneLine(err))
	}
	defer closeSink()
	if _, err := backfill.Run(ctx, cfg, client, sink, known, store, log); err != nil {
		return fail(1, "%s", oneLine(err))
	}
	return 0
}

// dropTornTail cuts an unfinished last line from the output file. A process killed while
// writing a page leaves part of an event behind; that page was never checkpointed, so it is
// fetched and written again, and the fragment would otherwise become a corrupt line.
func dropTornTail(f *os.File, log *slog.Logger) error {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return err
	}
	const chunk = 64 << 10
	size := st.Size()
	buf := make([]byte, chunk)
	for end := size; end > 0; {
		start := max(end-chunk, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("check the end of %s: %w", f.Name(), err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			keep := start + int64(i) + 1
			if keep == size {
				return nil
			}
			log.Warn("oktainput removed an unfinished event at the end of the output file; its page is fetched again",
				"file", f.Name(), "bytes", size-keep)
			return f.Truncate(keep)
		}
		end = start
	}
	log.Warn("oktainput removed an unfinished event at the end of the output file; its page is fetched again", "file", f.Name(), "bytes", size)
	return f.Truncate(0)
}

// httpClientTrusting is an HTTP client that also trusts the CAs in caFile (none: nil, the
// sink's default client).
func httpClientTrusting(caFile string) (*http.Client, error) {
	if caFile == "" {
		return nil, nil
	}
	pool, err := trustPool(caFile)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: time.Minute}, nil
}
