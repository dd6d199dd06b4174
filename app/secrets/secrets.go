// Package secrets keeps an input's secrets (api_token, private_key, proxy_password) out of
// inputs.conf: a clear value typed there is moved into splunkd's encrypted store
// (storage/passwords) and replaced by a mask, and the stored value is read back on each run.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Mask is what inputs.conf holds in place of a secret once it is stored.
const Mask = "********"

// Store is the part of splunkd's REST API this package needs.
type Store interface {
	GetPassword(ctx context.Context, realm, user string) (string, error)
	SetPassword(ctx context.Context, realm, user, secret string) error
	MaskInputParam(ctx context.Context, scheme, name, param, mask string) error
}

// Resolver moves and reads the secrets of one app's inputs.
type Resolver struct {
	Store  Store
	Realm  string   // the app, e.g. "oktasight"
	Scheme string   // the modular input scheme, e.g. "oktainput"
	Params []string // the secret parameters, e.g. inputconf.Secrets
}

// User is the storage/passwords user of a stanza's secret: the input's short name for the
// main credential, "<name>#<param>" for the others (splunkd's entity names use ':' as the
// separator, so it cannot appear).
func (r *Resolver) User(stanza, param string) string {
	name := shortName(stanza)
	if param == r.Params[0] {
		return name
	}
	return name + "#" + param
}

func shortName(stanza string) string {
	if _, name, ok := strings.Cut(stanza, "://"); ok {
		return name
	}
	return stanza
}

// Resolve returns params with every secret in the clear, for this run only. A clear value
// found in params is stored and masked (store=true, at run time); a masked or empty one is
// read from the store. Errors name the setting and never hold a secret.
func (r *Resolver) Resolve(ctx context.Context, stanza string, params map[string]string, store bool) (map[string]string, error) {
	out := make(map[string]string, len(params))
	for k, v := range params {
		out[k] = v
	}
	for _, p := range r.Params {
		v := strings.TrimSpace(params[p])
		user := r.User(stanza, p)
		switch {
		case v != "" && v != Mask:
			if !store {
				continue // validating a new value: use it as typed
			}
			if err := r.Store.SetPassword(ctx, r.Realm, user, v); err != nil {
				return nil, fmt.Errorf("%s: cannot store it in Splunk's encrypted store (storage/passwords): %w", p, err)
			}
			if err := r.Store.MaskInputParam(ctx, r.Scheme, shortName(stanza), p, Mask); err != nil {
				return nil, fmt.Errorf("%s: stored encrypted, but cannot replace the clear value in inputs.conf with %s: %w", p, Mask, err)
			}
		default:
			stored, err := r.Store.GetPassword(ctx, r.Realm, user)
			switch {
			case errors.Is(err, fs.ErrNotExist) && v == Mask:
				return nil, fmt.Errorf("%s: inputs.conf holds the mask but Splunk's encrypted store has no secret for realm %q user %q: enter the value again", p, r.Realm, user)
			case errors.Is(err, fs.ErrNotExist):
				continue // not set: validation says whether it is required
			case err != nil:
				return nil, fmt.Errorf("%s: cannot read it from Splunk's encrypted store: %w", p, err)
			}
			out[p] = stored
		}
	}
	return out, nil
}
