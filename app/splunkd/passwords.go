package splunkd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// passwordEntity is storage/passwords' name for a credential: "realm:user:" (trailing colon
// included, as splunkd names it).
func passwordEntity(realm, user string) (string, error) {
	if user == "" {
		return "", errors.New("splunkd: storage/passwords needs a user name")
	}
	// splunkd escapes ':' inside realm and user names in ways that differ across versions;
	// refusing them keeps the entity name unambiguous.
	if strings.Contains(realm, ":") || strings.Contains(user, ":") {
		return "", fmt.Errorf("splunkd: storage/passwords realm %q and user %q must not contain ':'", realm, user)
	}
	return realm + ":" + user + ":", nil
}

// GetPassword returns the clear secret stored for realm and user in the app's
// storage/passwords; ErrNotFound when there is none.
func (c *Client) GetPassword(ctx context.Context, realm, user string) (string, error) {
	entity, err := passwordEntity(realm, user)
	if err != nil {
		return "", err
	}
	rest := "storage/passwords/" + url.PathEscape(entity)
	var env struct {
		Entry []struct {
			Name    string `json:"name"`
			Content struct {
				ClearPassword *string `json:"clear_password"`
				Realm         string  `json:"realm"`
				Username      string  `json:"username"`
			} `json:"content"`
		} `json:"entry"`
	}
	err = c.call(ctx, request{method: http.MethodGet, path: c.nsPath(rest), op: "GET " + rest}, &env)
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", entity, err)
	}
	// Match on realm and user, not position: splunkd's entry list is not documented for this endpoint.
	for _, e := range env.Entry {
		if e.Content.Realm == realm && e.Content.Username == user {
			if e.Content.ClearPassword == nil {
				return "", fmt.Errorf("read secret %s: splunkd returned no clear_password (the session's user needs the list_storage_passwords capability)", entity)
			}
			return *e.Content.ClearPassword, nil
		}
	}
	return "", fmt.Errorf("read secret %s: %w", entity, ErrNotFound)
}

// SetPassword stores secret encrypted for realm and user, creating the credential or,
// when it exists (409), updating it.
func (c *Client) SetPassword(ctx context.Context, realm, user, secret string) error {
	entity, err := passwordEntity(realm, user)
	if err != nil {
		return err
	}
	if secret == "" {
		return fmt.Errorf("store secret %s: the secret is empty", entity)
	}
	redact := []string{secret}
	err = c.call(ctx, request{
		method: http.MethodPost, path: c.nsPath("storage/passwords"), op: "POST storage/passwords",
		form: url.Values{"name": {user}, "password": {secret}, "realm": {realm}}, redact: redact,
	}, nil)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusConflict {
		rest := "storage/passwords/" + url.PathEscape(entity)
		err = c.call(ctx, request{
			method: http.MethodPost, path: c.nsPath(rest), op: "POST " + rest,
			form: url.Values{"password": {secret}}, redact: redact,
		}, nil)
	}
	if err != nil {
		return fmt.Errorf("store secret %s: %w", entity, err)
	}
	return nil
}

// MaskInputParam replaces param of the input scheme://name with mask through splunkd's
// data/inputs endpoint, so the clear secret leaves inputs.conf once it is stored encrypted.
// splunkd treats this as an edit of the input: it validates the new settings and restarts it.
func (c *Client) MaskInputParam(ctx context.Context, scheme, name, param, mask string) error {
	name = strings.TrimPrefix(name, scheme+"://")
	if scheme == "" || name == "" || param == "" || mask == "" {
		return errors.New("splunkd: masking a setting needs scheme, input name, setting and mask")
	}
	rest := "data/inputs/" + url.PathEscape(scheme) + "/" + url.PathEscape(name)
	err := c.call(ctx, request{
		method: http.MethodPost, path: c.nsPath(rest), op: "POST " + rest,
		form: url.Values{param: {mask}},
	}, nil)
	if err != nil {
		return fmt.Errorf("mask %s in input %s://%s: %w", param, scheme, name, err)
	}
	return nil
}
