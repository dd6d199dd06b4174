package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const tok = "00TOKEN-recognisable-9f8e7d"

type fakeStore struct {
	pw     map[string]string
	masked map[string]string
	fail   error
}

func (f *fakeStore) GetPassword(_ context.Context, realm, user string) (string, error) {
	if f.fail != nil {
		return "", f.fail
	}
	v, ok := f.pw[realm+":"+user]
	if !ok {
		return "", fmt.Errorf("not found: %w", fs.ErrNotExist)
	}
	return v, nil
}

func (f *fakeStore) SetPassword(_ context.Context, realm, user, secret string) error {
	if f.fail != nil {
		return f.fail
	}
	f.pw[realm+":"+user] = secret
	return nil
}

func (f *fakeStore) MaskInputParam(_ context.Context, scheme, name, param, mask string) error {
	if f.fail != nil {
		return f.fail
	}
	f.masked[scheme+"/"+name+"/"+param] = mask
	return nil
}

func resolver(f *fakeStore) *Resolver {
	return &Resolver{Store: f, Realm: "oktasight", Scheme: "oktainput", Params: []string{"api_token", "private_key", "proxy_password"}}
}

func TestResolveMovesClearSecretsAndReadsThemBack(t *testing.T) {
	f := &fakeStore{pw: map[string]string{}, masked: map[string]string{}}
	r := resolver(f)
	got, err := r.Resolve(context.Background(), "oktainput://prod", map[string]string{"org_url": "https://a.okta.com", "api_token": tok, "proxy_password": "pp"}, true)
	require.NoError(t, err)
	assert.Equal(t, tok, got["api_token"])
	assert.Equal(t, map[string]string{"oktasight:prod": tok, "oktasight:prod#proxy_password": "pp"}, f.pw)
	assert.Equal(t, map[string]string{"oktainput/prod/api_token": Mask, "oktainput/prod/proxy_password": Mask}, f.masked)

	// The next run sees the mask and reads the stored value.
	got, err = r.Resolve(context.Background(), "oktainput://prod", map[string]string{"api_token": Mask, "proxy_password": Mask}, true)
	require.NoError(t, err)
	assert.Equal(t, tok, got["api_token"])
	assert.Equal(t, "pp", got["proxy_password"])
	_, set := got["private_key"]
	assert.False(t, set, "an unset secret stays unset")
}

func TestResolveValidationDoesNotStore(t *testing.T) {
	f := &fakeStore{pw: map[string]string{}, masked: map[string]string{}}
	got, err := resolver(f).Resolve(context.Background(), "prod", map[string]string{"api_token": tok}, false)
	require.NoError(t, err)
	assert.Equal(t, tok, got["api_token"])
	assert.Empty(t, f.pw)
	assert.Empty(t, f.masked)
}

func TestResolveErrors(t *testing.T) {
	f := &fakeStore{pw: map[string]string{}, masked: map[string]string{}}
	_, err := resolver(f).Resolve(context.Background(), "oktainput://prod", map[string]string{"api_token": Mask}, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api_token: inputs.conf holds the mask")

	f.fail = errors.New("connection refused")
	_, err = resolver(f).Resolve(context.Background(), "oktainput://prod", map[string]string{"api_token": tok}, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api_token: cannot store it")
	assert.NotContains(t, err.Error(), tok)
	_, err = resolver(f).Resolve(context.Background(), "oktainput://prod", map[string]string{"api_token": Mask}, true)
	assert.ErrorContains(t, err, "cannot read it from Splunk's encrypted store")
}
