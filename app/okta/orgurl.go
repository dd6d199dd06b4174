package okta

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// CheckOrgURL checks an Okta org URL and returns it normalised to "https://host[:port]":
// https only, a host name (an optional port), no path other than "/", no query, fragment or
// credentials. Its errors say what to change.
func CheckOrgURL(s string) (*url.URL, error) {
	const eg = "e.g. https://acme.okta.com"
	if s == "" {
		return nil, fmt.Errorf("is empty; want the org's address, %s", eg)
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return nil, fmt.Errorf("contains white space; want the org's address only, %s", eg)
	}
	if !strings.Contains(s, "://") {
		return nil, fmt.Errorf("%q has no scheme; want https://%s", clip(s, 80), clip(s, 80))
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("is not a URL (%v); want %s", err, eg)
	}
	switch {
	case u.Scheme != "https":
		return nil, fmt.Errorf("must use https, not %s: %s", u.Scheme, eg)
	case u.User != nil:
		return nil, errors.New("must not contain a user name or password; the API token is a separate setting")
	case u.Opaque != "" || u.Host == "":
		return nil, fmt.Errorf("has no host name; want %s", eg)
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("must not have a path (%q); want the org's address only, %s", clip(u.Path, 80), eg)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("must not have a query (?...); want %s", eg)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, fmt.Errorf("must not have a fragment (#...); want %s", eg)
	}
	host, port := u.Hostname(), u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return nil, errors.New("has an empty port after the host name")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("has an invalid port %q", clip(port, 20))
		}
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if err := checkHost(host); err != nil {
		return nil, err
	}
	if first, domain, ok := strings.Cut(host, "."); ok && strings.HasSuffix(first, "-admin") && isOktaDomain(domain) {
		return nil, fmt.Errorf("is the Admin Console address; use the org address without -admin: https://%s.%s",
			strings.TrimSuffix(first, "-admin"), domain)
	}
	out := &url.URL{Scheme: "https", Host: host}
	if port != "" && port != "443" {
		out.Host = net.JoinHostPort(host, port)
	}
	return out, nil
}

// checkHost accepts a DNS name or an IP address (tests and simulators use 127.0.0.1).
func checkHost(host string) error {
	if net.ParseIP(host) != nil {
		return nil
	}
	if len(host) > 253 {
		return errors.New("has a host name longer than 253 characters")
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("has an invalid host name %q", clip(host, 80))
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("has an invalid host name %q", clip(host, 80))
			}
		}
	}
	return nil
}

func isOktaDomain(d string) bool {
	switch d {
	case "okta.com", "oktapreview.com", "okta-emea.com", "okta-gov.com", "okta.mil":
		return true
	}
	return false
}
