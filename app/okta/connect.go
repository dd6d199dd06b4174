package okta

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"syscall"
)

// ConnectFault says why a request never reached Okta, for the faults that mean a setting is
// wrong rather than that Okta or the network is slow: retrying them for seconds changes
// nothing, while a person waits (validation). A running input still retries them: a DNS or
// proxy restart, a firewall change and a certificate rotation are fixed without it.
type ConnectFault int

// The faults; FaultNone is anything else (a timeout, a reset, an answer).
const (
	FaultNone        ConnectFault = iota
	FaultNoSuchHost               // DNS says the name does not exist
	FaultRefused                  // nothing accepts connections at the address
	FaultCertificate              // the server's certificate is not trusted, not valid now, or for other names
	FaultNotTLS                   // the server did not answer with TLS (a plain HTTP port or proxy)
)

// Connect is what ClassifyConnect finds in an error.
type Connect struct {
	Fault ConnectFault
	// Proxy is set when the fault is in reaching the proxy itself (Go's "proxyconnect"), not
	// Okta through it.
	Proxy bool
	// Certificate tells a FaultCertificate apart: the *x509.UnknownAuthorityError,
	// x509.HostnameError or x509.CertificateInvalidError found, nil for other faults.
	Certificate error
}

// ClassifyConnect reports the ConnectFault in err, if any.
func ClassifyConnect(err error) Connect {
	if err == nil {
		return Connect{}
	}
	var c Connect
	var op *net.OpError
	c.Proxy = errors.As(err, &op) && op.Op == "proxyconnect"
	var (
		dnsErr  *net.DNSError
		unknown x509.UnknownAuthorityError
		name    x509.HostnameError
		invalid x509.CertificateInvalidError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		c.Fault = FaultNoSuchHost
	case isRefused(err):
		c.Fault = FaultRefused
	case errors.As(err, &unknown):
		c.Fault, c.Certificate = FaultCertificate, unknown
	case errors.As(err, &name):
		c.Fault, c.Certificate = FaultCertificate, name
	case errors.As(err, &invalid):
		c.Fault, c.Certificate = FaultCertificate, invalid
	case errors.As(err, &verify):
		c.Fault, c.Certificate = FaultCertificate, verify.Err
	case errors.As(err, &record), errors.Is(err, http.ErrSchemeMismatch):
		// net/http turns a record header of "HTTP/" into ErrSchemeMismatch.
		c.Fault = FaultNotTLS
	}
	return c
}

// isRefused reports a refused connection: ECONNREFUSED, or Windows' WSAECONNREFUSED, which
// Go's syscall does not map to it.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, wsaeconnrefused)
}

// wsaeconnrefused is Windows' "connection refused" (10061); elsewhere no error carries it.
const wsaeconnrefused = syscall.Errno(10061)
