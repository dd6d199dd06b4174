package appcheck

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/cim_fields.golden")

// cimActions are the CIM action values the Change and Authentication data models prescribe, plus
// lockout, which Splunk's add-ons and Security Content use for account lockouts.
var (
	changeActions   = []string{"acl_modified", "cleared", "created", "deleted", "modified", "read", "stopped", "updated", "lockout"}
	authActions     = []string{"success", "failure", "pending", "unknown"}
	objectCategory  = []string{"user", "group", "device", "api_token", "idp", "authenticator", "policy", "network_zone", "app", "authorization_server", "role"}
	cimDatasets     = []string{"Account_Management", "All_Changes"}
	cimLookupHeader = []string{"eventType", "outcome_action", "action", "command", "change_type", "object_category", "object_attrs", "cim_dataset"}
)

// cimField lists the fields the golden file pins for every event, in its order.
var cimFields = []string{
	"action", "status", "result", "reason", "description", "app", "dest", "signature", "signature_id", "vendor_product",
	"user", "user_id", "src_user", "src_user_id", "src_user_name", "src_user_type", "src", "src_ip",
	"user_agent", "http_user_agent", "session_id", "authentication_method",
	"command", "change_type", "object", "object_id", "object_category", "object_attrs",
	"okta_flow", "okta_step", "okta_step_order", "eventtype", "tag",
}

// cimEvent is one event the CIM tests read, with where it came from.
type cimEvent struct {
	origin string // file:line, or "built: <why>"
	raw    []byte
	f      fields
}

// Real events (shared/data/okta-samples, copied under app/session/testdata with provenance in
// its README) and the session package's hand-built flow scenarios.
var cimEventFiles = []string{
	"app/session/testdata/okta-samples/*.ndjson",
	"app/session/testdata/scenarios/*.ndjson",
}

func readNDJSON(t *testing.T, pattern string) []cimEvent {
	files, err := filepath.Glob(filepath.Join(root, pattern))
	require.NoError(t, err)
	require.NotEmpty(t, files, pattern)
	var out []cimEvent
	for _, file := range files {
		fh, err := os.Open(file)
		require.NoError(t, err)
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
		n := 0
		for sc.Scan() {
			n++
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			rel, _ := filepath.Rel(root, file)
			out = append(out, cimEvent{origin: fmt.Sprintf("%s:%d", filepath.ToSlash(rel), n), raw: append([]byte(nil), sc.Bytes()...)})
		}
		require.NoError(t, sc.Err())
		fh.Close()
	}
	return out
}

// cimRow is one row of lookups/oktasight_cim.csv.
type cimRow struct{ eventType, outcome, action, command, changeType, category, attrs, dataset string }

func readCIMRows(t *testing.T) []cimRow {
	rows := readCSV(t, "lookups/oktasight_cim.csv")
	require.Equal(t, cimLookupHeader, rows[0])
	var out []cimRow
	for _, r := range rows[1:] {
		out = append(out, cimRow{r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]})
	}
	return out
}

// changeRows are the rows for change event types (every row before the outcome rows).
func changeRows(t *testing.T) []cimRow {
	var out []cimRow
	for _, r := range readCIMRows(t) {
		if r.eventType != "*" {
			out = append(out, r)
		}
	}
	return out
}

// builtTargets are the targets of the events built for change types no sample has: the shapes
// Okta logs for each kind of object (User, UserGroup, AppInstance, Token as in the real
// samples; the others with alternateId "unknown" and a displayName, as Okta writes them).
var builtTargets = map[string][]map[string]any{
	"user":                 {{"type": "User", "alternateId": "bob@example.com", "displayName": "Bob Example", "id": "00ubob00000000000002"}},
	"group":                {{"type": "UserGroup", "alternateId": "unknown", "displayName": "Engineering", "id": "00gengineering000001"}},
	"device":               {{"type": "Device", "alternateId": "unknown", "displayName": "Bob's MacBook", "id": "guodevice00000000001"}},
	"api_token":            {{"type": "Token", "alternateId": "unknown", "displayName": "ci-token", "id": "00Ttoken000000000001"}},
	"idp":                  {{"type": "IdentityProvider", "alternateId": "unknown", "displayName": "Corporate SAML IdP", "id": "0oaidp00000000000001"}},
	"authenticator":        {{"type": "Authenticator", "alternateId": "unknown", "displayName": "Okta Verify", "id": "autauthenticator0001"}},
	"policy":               {{"type": "PolicyEntity", "alternateId": "unknown", "displayName": "Default Policy", "id": "00ppolicy00000000001"}, {"type": "PolicyRule", "alternateId": "unknown", "displayName": "Rule 1", "id": "0prrule0000000000001"}},
	"network_zone":         {{"type": "NetworkZone", "alternateId": "unknown", "displayName": "BlockedIpZone", "id": "nzozone0000000000001"}},
	"app":                  {{"type": "AppInstance", "alternateId": "Salesforce", "displayName": "Salesforce", "id": "0oaapp00000000000001"}},
	"authorization_server": {{"type": "AuthorizationServer", "alternateId": "unknown", "displayName": "default", "id": "ausserver00000000001"}},
	"role":                 {{"type": "CUSTOM_ROLE", "alternateId": "unknown", "displayName": "Help desk", "id": "cr0role0000000000001"}},
}

// builtEvents builds one event for each change type in the lookup that no sample or scenario
// has, from the realistic shape of the session scenarios' first admin event (actor, client,
// contexts) with the event type, Okta's kind of target and a displayMessage set.
func builtEvents(t *testing.T, have map[string]bool) []cimEvent {
	tmpl := readNDJSON(t, "app/session/testdata/scenarios/admin_on_behalf.ndjson")[0].raw
	var out []cimEvent
	for i, r := range changeRows(t) {
		if have[r.eventType] {
			continue
		}
		var ev map[string]any
		require.NoError(t, json.Unmarshal(tmpl, &ev))
		targets := slices.Clone(builtTargets[r.category])
		require.NotNil(t, targets, "no built target for object_category %s", r.category)
		switch {
		case r.category == "user" && r.attrs == "group_membership":
			targets = append(targets, builtTargets["group"]...)
		case strings.HasPrefix(r.attrs, "app_"):
			targets = append(targets, builtTargets["app"]...)
		}
		ev["eventType"] = r.eventType
		ev["displayMessage"] = "Built: " + strings.ReplaceAll(r.eventType, ".", " ")
		ev["target"] = targets
		ev["uuid"] = fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		out = append(out, cimEvent{origin: "built: " + r.eventType, raw: raw})
	}
	return out
}

// builtPushDenial is a rejected Okta Verify push as Classic Engine logs it
// (user.mfa.okta_verify.deny_push, outcome FAILURE "User rejected Okta push verify"), which no
// sample has, on the session scenarios' push shape.
func builtPushDenial(t *testing.T) cimEvent {
	var ev map[string]any
	for _, e := range readNDJSON(t, "app/session/testdata/scenarios/signin_success_push.ndjson") {
		if strings.Contains(string(e.raw), `"user.authentication.auth_via_mfa"`) {
			require.NoError(t, json.Unmarshal(e.raw, &ev))
			break
		}
	}
	require.NotNil(t, ev, "signin_success_push.ndjson has an auth_via_mfa event")
	ev["eventType"] = "user.mfa.okta_verify.deny_push"
	ev["legacyEventType"] = "core.user.factor.attempt_fail"
	ev["displayMessage"] = "User rejected Okta push verify"
	ev["outcome"] = map[string]any{"result": "FAILURE", "reason": "User rejected Okta push verify"}
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	return cimEvent{origin: "built: user.mfa.okta_verify.deny_push", raw: raw}
}

// cimEvents returns every event the CIM tests read, with its search-time fields.
func cimEvents(t *testing.T, st *searchTime) []cimEvent {
	var evs []cimEvent
	for _, p := range cimEventFiles {
		evs = append(evs, readNDJSON(t, p)...)
	}
	have := map[string]bool{}
	for _, e := range evs {
		var v struct{ EventType string }
		require.NoError(t, json.Unmarshal(e.raw, &v), e.origin)
		have[v.EventType] = true
	}
	evs = append(evs, builtEvents(t, have)...)
	evs = append(evs, builtPushDenial(t))
	for i := range evs {
		f, err := st.apply(evs[i].raw, "okta:acme.okta.com")
		require.NoError(t, err, evs[i].origin)
		evs[i].f = f
	}
	return evs
}

func (e cimEvent) one(name string) string {
	if vs := e.f[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func (e cimEvent) has(name, value string) bool { return slices.Contains(e.f[name], value) }

func TestCIMLookupTable(t *testing.T) {
	rows := readCIMRows(t)
	seen := map[string]bool{}
	outcomes := false
	for _, r := range rows {
		if r.eventType == "*" {
			outcomes = true
			assert.Equal(t, r.outcome, r.action, "outcome row %s gives the event its action back", r.outcome)
			assert.Empty(t, r.command+r.changeType+r.category+r.attrs+r.dataset, "outcome row %s gives action only", r.outcome)
			continue
		}
		require.False(t, outcomes, "%s: change rows come before the outcome rows (the first match wins)", r.eventType)
		assert.False(t, seen[r.eventType], "%s appears twice", r.eventType)
		seen[r.eventType] = true
		assert.Regexp(t, `^[a-z0-9_]+(\.[a-zA-Z0-9_]+)+$`, r.eventType, "an exact event type, no wildcard")
		assert.Equal(t, "*", r.outcome, "%s: a change is a change whatever its outcome (status says how it went)", r.eventType)
		assert.Contains(t, changeActions, r.action, "%s action", r.eventType)
		assert.Equal(t, r.eventType, r.command, "%s: command is the event type", r.eventType)
		assert.Equal(t, "AAA", r.changeType, r.eventType)
		assert.Contains(t, objectCategory, r.category, r.eventType)
		assert.Regexp(t, `^[a-z_]+$`, r.attrs, r.eventType)
		assert.Contains(t, cimDatasets, r.dataset, r.eventType)
	}
	require.GreaterOrEqual(t, len(seen), 150, "the change families of Okta's catalogue")
	for _, e := range []string{"user.account.reset_password", "user.account.update_password", "user.account.unlock", "user.account.lock",
		"user.mfa.factor.deactivate", "system.api_token.create", "device.enrollment.create", "system.idp.lifecycle.create", "policy.rule.update",
		"application.lifecycle.create", "iam.role.create", "user.account.privilege.grant"} {
		assert.True(t, seen[e], "%s is a change", e)
	}
	// One outcome row for each action props.conf's EVAL-action can give, so every event matches a
	// row (an automatic lookup that matches nothing clears its output fields).
	var outcomeRows []string
	for _, r := range rows[len(rows)-len(authActions):] {
		assert.Equal(t, "*", r.eventType)
		outcomeRows = append(outcomeRows, r.outcome)
	}
	assert.ElementsMatch(t, authActions, outcomeRows)
	props := readConf(t, "default/props.conf", false).Stanza("OktaIM2:log")
	gives := regexp.MustCompile(`"([a-z]+)"\)$|, "([a-z]+)"`).FindAllStringSubmatch(props.Values["EVAL-action"], -1)
	var evalActions []string
	for _, m := range gives {
		if a := m[1] + m[2]; slices.Contains(authActions, a) && !slices.Contains(evalActions, a) {
			evalActions = append(evalActions, a)
		}
	}
	assert.ElementsMatch(t, authActions, evalActions, "EVAL-action gives exactly the outcome rows' actions")
	assert.Contains(t, props.Values["EVAL-action"], `true(), "unknown")`, "EVAL-action always gives a value, so every event is looked up")

	// The eventtypes that tag changes list exactly the lookup's change rows.
	et := readConf(t, "default/eventtypes.conf", false)
	byDataset := map[string][]string{}
	for _, r := range changeRows(t) {
		byDataset[r.dataset] = append(byDataset[r.dataset], r.eventType)
	}
	assert.ElementsMatch(t, byDataset["Account_Management"], eventTypesIn(et.Stanza("okta_account_change").Values["search"]), "okta_account_change")
	assert.ElementsMatch(t, byDataset["All_Changes"], eventTypesIn(et.Stanza("okta_change").Values["search"]), "okta_change")
	for _, e := range eventTypesIn(et.Stanza("okta_authentication").Values["search"]) {
		assert.False(t, seen[e], "authentication event %s must not be mapped as a change", e)
	}
	tags := readConf(t, "default/tags.conf", false)
	assert.Equal(t, "enabled", tags.Stanza("eventtype=okta_change").Values["change"])
	assert.Empty(t, tags.Stanza("eventtype=okta_change").Values["account"], "okta_change is not Account_Management")
}

// notChanges are the catalogue's event types in the change families that record no change:
// attempts, failures, reads of lists, notifications and scheduled runs.
var notChanges = regexp.MustCompile(`^(user\.account\.(report_suspicious_activity_by_enduser|access_support_user_app|unlock_failure|use_token)|user\.lifecycle\.jit\.error\.read_only|user\.mfa\.(attempt_bypass|okta_verify.*|promote_enrollment)|user\.identity_verification.*|group\.user_membership\.rule\..*|group\.application_assignment\.skip_assignment_reconcile|device\.(platform_sso\.(authentication|keys\.register)|password_sync\.authentication|signals\..*|custom_push\..*|user_os_account\.sync|desktop_mfa\.(configuration\.update|device_logout\..*|recovery_pin\..*)|integration\..*|platform\..*|push\.provider\..*)|system\.api_token\.request_outside_allowed_range|system\.mfa\.preregister\.initiate|policy\.(evaluate_sign_on|auth_reevaluate\..*|continuous_access\..*|entity_risk\..*|execute\..*|rule\.action\.execute|scheduled\.execute)|application\.policy\.sign_on\.deny_access|application\.configuration\.(detect_error|import_schema|update)|app\.oauth2\.client_id_rate_limit_warning|app\.app_instance\.provision_sync_job\..*)$`)

// changeFamilies are the catalogue's families the lookup covers: accounts, factors, devices, API
// tokens, identity providers, authenticators, policies and zones, apps, authorization servers and
// admin roles.
var changeFamilies = regexp.MustCompile(`^(user\.(account|lifecycle|mfa|privileged_account|realm|credential)\.|group\.(lifecycle|profile|privilege|user_membership|application_assignment)\.|device\.|system\.(api_token|idp|mfa)\.|security\.authenticator\.|policy\.|application\.(lifecycle|configuration|user_membership|policy|registration_policy)\.|app\.(policy|oauth2\.client|app_instance)\.|oauth2\.(as|claim|scope)\.|zone\.|iam\.)`)

// readEnvFile reads the file the environment variable names, or skips the test when it is unset:
// the references these tests compare with (Okta's catalogue, Security Content) are not ours to
// ship in the repository.
func readEnvFile(t *testing.T, name, what string) []byte {
	path := os.Getenv(name)
	if path == "" {
		t.Skipf("%s is not set (%s)", name, what)
	}
	raw, err := os.ReadFile(path)
	require.NoError(t, err, name)
	return raw
}

// TestCIMCoversOktaCatalogue checks the lookup against Okta's event type catalogue (the
// event-types.json behind developer.okta.com's Event Types page), where OKTA_EVENT_TYPES names a
// copy: every catalogue type of the change families is mapped or listed in notChanges, and
// every mapped type is in the catalogue.
func TestCIMCoversOktaCatalogue(t *testing.T) {
	raw := readEnvFile(t, "OKTA_EVENT_TYPES", "a copy of Okta's event-types.json")
	var cat struct {
		Release  string
		Versions []struct {
			EventTypes []struct{ ID string } `json:"eventTypes"`
		}
	}
	require.NoError(t, json.Unmarshal(raw, &cat))
	inCatalogue := map[string]bool{}
	for _, v := range cat.Versions {
		for _, e := range v.EventTypes {
			inCatalogue[e.ID] = true
		}
	}
	require.NotEmpty(t, inCatalogue)
	mapped := map[string]bool{}
	for _, r := range changeRows(t) {
		mapped[r.eventType] = true
		assert.True(t, inCatalogue[r.eventType], "%s is not in Okta's catalogue %s", r.eventType, cat.Release)
	}
	var missing []string
	for id := range inCatalogue {
		if changeFamilies.MatchString(id) && !mapped[id] && !notChanges.MatchString(id) {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "catalogue %s: change types neither mapped nor listed as not a change", cat.Release)
	t.Logf("catalogue %s: %d types, %d mapped as changes", cat.Release, len(inCatalogue), len(mapped))
}

func TestCIMFieldsOnEvents(t *testing.T) {
	st := loadSearchTime(t)
	evs := cimEvents(t, st)
	rows := map[string]cimRow{}
	for _, r := range changeRows(t) {
		rows[r.eventType] = r
	}
	covered := map[string]bool{}
	for _, e := range evs {
		et := e.one("eventType")
		covered[et] = true
		t.Run(e.origin, func(t *testing.T) {
			assert.Equal(t, []string{"Okta"}, e.f["vendor_product"])
			assert.Equal(t, []string{"acme.okta.com"}, e.f["dest"])
			assert.NotEmpty(t, e.one("app"), "app is never empty (Okta by default)")
			assert.True(t, e.has("eventtype", "okta_log"), "Security Content's `okta` macro finds every event")
			// The fields the app derives drop Okta's placeholders; ids, logins and session ids stay
			// as Okta writes them ("unknown" is what Okta logs for an unknown actor or session).
			for _, name := range []string{"reason", "description", "src", "src_ip", "signature_id", "authentication_method", "app"} {
				for _, v := range e.f[name] {
					assert.NotContains(t, []string{"null", "unknown"}, strings.ToLower(v), "%s carries a placeholder", name)
				}
			}
			if raw := e.f["outcome.result"]; raw != nil {
				assert.Equal(t, raw, e.f["result"], "result is outcome.result")
			}
			if r, ok := rows[et]; ok {
				assert.True(t, e.has("tag", "change"), "a change carries tag change")
				assert.Equal(t, r.dataset == "Account_Management", e.has("tag", "account"), "tag account iff Account_Management")
				assert.Equal(t, []string{r.action}, e.f["action"])
				assert.Equal(t, []string{et}, e.f["command"])
				assert.Equal(t, []string{r.category}, e.f["object_category"])
				if dm := e.one("displayMessage"); dm != "" && dm != "null" {
					assert.Equal(t, dm, e.one("description"))
				} else {
					assert.Equal(t, e.one("reason"), e.one("description"), "description is the reason without a displayMessage")
				}
				assert.NotEmpty(t, e.one("user"), "user")
				assert.False(t, e.has("tag", "authentication"), "a change is not a sign-in")
				if r.category == "user" {
					assert.Equal(t, e.one("user"), e.one("object"), "a user change's object is the account")
				}
			} else {
				assert.False(t, e.has("tag", "change"), "only the lookup's change types are changes")
				assert.Empty(t, e.f["command"])
				assert.Contains(t, authActions, e.one("action"))
			}
		})
	}
	for et := range rows {
		assert.True(t, covered[et], "no event (real or built) for %s", et)
	}
}

// The fixes issue 13 asked for, on the events named there.
func TestCIMSecurityContentFixes(t *testing.T) {
	st := loadSearchTime(t)
	byType := map[string][]cimEvent{}
	for _, e := range cimEvents(t, st) {
		et := e.one("eventType")
		byType[et] = append(byType[et], e)
	}
	check := func(et string, want map[string]string, tags ...string) {
		require.NotEmpty(t, byType[et], et)
		for _, e := range byType[et] {
			for k, v := range want {
				assert.Equal(t, v, e.one(k), "%s %s %s", e.origin, et, k)
			}
			for _, tag := range tags {
				assert.True(t, e.has("tag", tag), "%s %s tag %s", e.origin, et, tag)
			}
		}
	}
	check("user.mfa.factor.deactivate", map[string]string{"action": "modified", "object_category": "user", "command": "user.mfa.factor.deactivate"}, "change")
	check("user.account.lock", map[string]string{"action": "lockout", "change_type": "AAA", "object_category": "user", "command": "user.account.lock"}, "change", "account")
	check("system.api_token.create", map[string]string{"action": "created", "command": "system.api_token.create"}, "change")
	check("device.enrollment.create", map[string]string{"action": "created", "command": "device.enrollment.create"}, "change")
	for _, et := range []string{"system.idp.lifecycle.activate", "system.idp.lifecycle.create", "system.idp.lifecycle.delete", "system.idp.lifecycle.deactivate"} {
		check(et, map[string]string{"command": et}, "change")
		for _, e := range byType[et] {
			assert.NotEmpty(t, e.one("description"), et)
		}
	}
	for _, e := range byType["user.authentication.auth_via_mfa"] {
		assert.Equal(t, e.one("outcome.result"), e.one("result"), e.origin)
		assert.True(t, e.has("tag", "authentication"), e.origin)
	}
	nullReason := false
	for _, evs := range byType {
		for _, e := range evs {
			if e.one("outcome.reason") == "null" {
				nullReason = true
				assert.Empty(t, e.f["reason"], "%s: reason without Okta's null", e.origin)
			}
			if !e.has("target{}.type", "AppInstance") {
				assert.Equal(t, "Okta", e.one("app"), e.origin)
			}
		}
	}
	assert.True(t, nullReason, "the events include a null outcome.reason")
}

// TestCIMGolden pins every CIM field of every event the tests read; `go test -run TestCIMGolden
// -update` rewrites testdata/cim_fields.golden (review the diff).
func TestCIMGolden(t *testing.T) {
	st := loadSearchTime(t)
	var b strings.Builder
	b.WriteString("# Search-time CIM fields of every event the appcheck CIM tests read (real samples, the\n")
	b.WriteString("# session scenarios, and one built event for each mapped change type no sample has),\n")
	b.WriteString("# as default/props.conf, transforms.conf, lookups, eventtypes.conf and tags.conf give them.\n")
	b.WriteString("# Written by: go test ./app/appcheck -run TestCIMGolden -update\n")
	for _, e := range cimEvents(t, st) {
		fmt.Fprintf(&b, "\n## %s %s %s\n", e.origin, e.one("eventType"), e.one("outcome.result"))
		for _, name := range cimFields {
			if vs := e.f[name]; len(vs) > 0 {
				q := make([]string, len(vs))
				for i, v := range vs {
					q[i] = fmt.Sprintf("%q", v)
				}
				fmt.Fprintf(&b, "%s=%s\n", name, strings.Join(q, " "))
			}
		}
	}
	path := filepath.Join("testdata", "cim_fields.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	got, wantLines := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(got) || i < len(wantLines); i++ {
		g, w := "<end>", "<end>"
		if i < len(got) {
			g = got[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Fatalf("%s:%d: CIM fields changed (review the change, then rerun with -update)\nwant: %s\ngot:  %s", path, i+1, w, g)
		}
	}
}
