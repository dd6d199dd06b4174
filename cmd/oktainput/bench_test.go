package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/oktasight/oktasight/app/inputconf"
	"github.com/oktasight/oktasight/app/modinput"
	"github.com/oktasight/oktasight/app/okta"
	"github.com/oktasight/oktasight/app/oktasim"
	"github.com/oktasight/oktasight/app/poll"
)

// BenchmarkPipeline runs the whole input in process: TLS fetch from a simulated org, page
// decoding, the XML event stream (to io.Discard) and the checkpoint after every page.
// Report: events/s. `bench/oktainput.sh` measures the real binary, with its peak RSS.
func BenchmarkPipeline(b *testing.B) {
	const total = 50_000
	now := time.Now()
	events := oktasim.Generate(oktasim.GenOptions{Users: 500, Events: total, Start: now.Add(-48 * time.Hour), Span: 24 * time.Hour, Seed: 1})
	sim, err := oktasim.NewServer(oktasim.Options{Token: token, RateLimit: 1 << 30}, events)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewTLSServer(sim)
	defer hs.Close()
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	b.ResetTimer()
	for b.Loop() {
		client, err := okta.New(okta.Config{OrgURL: hs.URL, HTTPClient: &http.Client{Transport: okta.NewSSWSTransport(token, tr)}})
		if err != nil {
			b.Fatal(err)
		}
		ew := modinput.NewEventWriter(bufio.NewWriterSize(io.Discard, 1<<20))
		sink := poll.NewSplunkSink(ew, "oktainput://bench", "okta:bench", inputconf.Sourcetype, "okta", "hf")
		p := poll.New(poll.Config{Key: "oktainput://bench", OrgURL: hs.URL, Since: now.Add(-72 * time.Hour), PageLimit: 1000,
			PollInterval: time.Second, ExitWhenCaughtUp: true}, client, &checkpoint.FileStore{Dir: b.TempDir()}, sink, nil, nil)
		if err := p.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "events/s")
}
