package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/oktasight/oktasight/app/inputconf"
	"github.com/oktasight/oktasight/app/modinput"
	"github.com/oktasight/oktasight/app/okta"
	"github.com/oktasight/oktasight/app/splunkd"
)

// validationBudget bounds --validate-arguments from the start to the answer. splunkd runs the
// script while the REST call that creates or edits the input waits, and Splunk Web (the input
// form, the app's setup page) waits for that call at most web.conf's splunkdConnectionTimeout:
// 30 s by default, and Splunk Web raises a lower value to 30. An answer later than that shows
// the admin Splunk Web's timeout instead of our message. Half of it leaves splunkd the time to
// start the script and save the input.
const validationBudget = 15 * time.Second

// Within the budget, the request to Okta is tried again only on what may pass in seconds (a
// 5xx, a 429 whose window resets soon, a timeout or a reset connection): at most probeAttempts
// times, each within probeAttemptTimeout, waiting at most probeMaxBackoff between them. An
// error that retrying cannot fix (okta.ClassifyConnect) ends it at once.
const (
	probeAttempts       = 3
	probeAttemptTimeout = 8 * time.Second
	probeMaxBackoff     = 2 * time.Second
)

// validate is scenario 2: check every setting, then make one real request with the token.
// Success is silence and exit 0; failure is Splunk's error XML on stdout and exit 1.
//
// A stop (SIGTERM, SIGINT: splunkd stopping or restarting) ends it at once. The settings were
// not checked, so it does not pass them (exit 0 would let splunkd save settings nobody
// checked); it answers that it was stopped, not that they are wrong, and logs at INFO, as a
// stop of the input itself does.
func validate(ctx context.Context, stdin io.Reader, stdout io.Writer, getenv func(string) string, log *slog.Logger) int {
	fail := func(msg string) int {
		if err := modinput.WriteValidationError(stdout, msg); err != nil {
			log.Error("oktainput validation reply failed", "error", err)
		}
		return 1
	}
	req, err := modinput.ParseValidation(stdin)
	if err != nil {
		return fail("oktainput could not read the validation request from splunkd: " + err.Error())
	}
	stopped := func() int {
		log.Info("oktainput validation stopped on request: the settings were not checked", "stanza", req.Name)
		return fail("oktainput was stopped (splunkd stopping or restarting) before it could check these settings with Okta: they were not checked, and not saved. Save them again.")
	}
	vctx, cancel := context.WithTimeout(ctx, validationBudget)
	defer cancel()
	params := req.Params
	if hasMask(params) {
		// Editing an input whose secrets are stored: validate with the stored values.
		sp, err := splunkd.New(splunkd.Config{ServerURI: req.ServerURI, SessionKey: req.SessionKey, App: appName,
			SplunkHome: getenv("SPLUNK_HOME"), Logger: log})
		if err == nil {
			params, err = secretResolver(sp).Resolve(vctx, req.Name, params, false)
		}
		if err != nil {
			if ctx.Err() != nil {
				return stopped()
			}
			return fail(oneLine(err))
		}
	}
	s, err := inputconf.FromParams(req.Name, params)
	if err != nil {
		return fail(oneLine(err))
	}
	if err := probe(vctx, s, log); err != nil {
		if ctx.Err() != nil {
			return stopped()
		}
		return fail(oneLine(err))
	}
	return 0
}

// probe asks Okta for one event with the configured credential and filter, and explains a
// failure in terms of the settings to check.
func probe(ctx context.Context, s *inputconf.Settings, log *slog.Logger) error {
	since, _, err := inputconf.ResolveStart(s.StartDate, time.Now())
	if err != nil {
		return fmt.Errorf("start_date: %w", err)
	}
	client, err := newClient(s, log, func(c *okta.Config) {
		c.FailFast = true
		c.MaxAttempts = probeAttempts
		c.RequestTimeout = probeAttemptTimeout
		c.MaxBackoff = probeMaxBackoff
	})
	if err != nil {
		return err
	}
	_, err = client.Fetch(ctx, client.PollURL(okta.Query{Since: since, Limit: 1, Filter: s.Filter, Q: s.Q}))
	if err == nil {
		return nil
	}
	return explainProbe(s, err)
}

// explainProbe turns the error of the validation request into what an admin should check.
func explainProbe(s *inputconf.Settings, err error) error {
	var (
		apiErr   *okta.APIError
		proxyErr *inputconf.ProxyError
	)
	switch {
	case errors.As(err, &proxyErr) && !proxyErr.Temporary():
		return err // names the proxy, its answer and the setting
	case errors.As(err, &apiErr) && apiErr.Temporary():
		return fmt.Errorf("the request to Okta failed on Okta's side or its rate limit, not because of these settings (%w): save again in a minute", err)
	case errors.As(err, &apiErr):
		return err // Okta's answer, with what to change (token, permission, filter)
	}
	org := s.OrgURL
	proxy := "proxy_url"
	if s.ProxyURL == "" {
		proxy = "proxy_url (none is set: splunkd's HTTPS_PROXY environment applies)"
	}
	c := okta.ClassifyConnect(err)
	detail := err.Error()
	var op *net.OpError
	if errors.As(err, &op) {
		detail = op.Error()
	}
	switch c.Fault {
	case okta.FaultNoSuchHost:
		if c.Proxy {
			return fmt.Errorf("the proxy's host name does not exist (%s): check %s", detail, proxy)
		}
		return fmt.Errorf("%s does not exist: DNS has no such host (%s): check org_url for a typo (https://<org>.okta.com, .oktapreview.com or your custom domain); if this server resolves internet names only through a proxy, set proxy_url", hostOf(org), detail)
	case okta.FaultRefused:
		if c.Proxy {
			return fmt.Errorf("the proxy refused the connection (%s): check %s, and that the proxy is running", detail, proxy)
		}
		return fmt.Errorf("%s refused the connection (%s): check org_url; if this server must reach the internet through a proxy, set proxy_url; otherwise a firewall refuses it", org, detail)
	case okta.FaultCertificate:
		var (
			name    x509.HostnameError
			invalid x509.CertificateInvalidError
		)
		switch {
		case errors.As(c.Certificate, &name):
			return fmt.Errorf("the TLS certificate that answered for %s is not for %s (%v): check org_url (a custom domain needs its own certificate); if a TLS-inspecting proxy sits between this server and Okta, set ca_file to its CA", org, hostOf(org), c.Certificate)
		case errors.As(c.Certificate, &invalid):
			return fmt.Errorf("the TLS certificate that answered for %s is not valid now (%v): check this server's clock; if a TLS-inspecting proxy sits between this server and Okta, its certificate may have expired", org, c.Certificate)
		}
		fix := "set ca_file to a PEM file of that proxy's CA certificate"
		if s.CAFile != "" {
			fix = "ca_file (" + s.CAFile + ") does not hold the CA that signed it: add that proxy's CA certificate to it"
		}
		return fmt.Errorf("the TLS certificate that answered for %s is not trusted (%v): if a TLS-inspecting proxy sits between this server and Okta, %s; otherwise check org_url", org, c.Certificate, fix)
	case okta.FaultNotTLS:
		if c.Proxy {
			return fmt.Errorf("the proxy does not speak TLS (%s): write %s as http://, not https://", detail, proxy)
		}
		return fmt.Errorf("%s did not answer with TLS (%s): check org_url", org, detail)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("no answer from %s within %s (check org_url, %s and the firewall): %w", org, validationBudget, proxy, err)
	}
	return fmt.Errorf("cannot reach %s (check org_url, %s and the firewall): %w", org, proxy, err)
}

// hostOf is the host name of the org URL.
func hostOf(org string) string {
	if u, err := url.Parse(org); err == nil {
		return u.Hostname()
	}
	return org
}
