package appcheck

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Splunk Security Content (ESCU) Okta detections, checked against this app's search-time fields
// on real Okta events. Each entry transcribes what the detection's search needs: its filter
// (after the `okta` macro, or the tstats where clause) and the fields its first stats groups by.
// A raw search's stats drops events with a null BY field; tstats in Security Content runs with
// fillnull_value=null, so there only the filter matters. The transcriptions are checked against
// the detections themselves by TestESCUTranscriptions when ESCU_DETECTIONS names an export
// (see that test). Security Content revision read: splunk/security_content b13b314a (2024-10-24).
type escuDetection struct {
	name       string
	deprecated bool
	model      string // "" for a raw search on `okta`; Authentication, Change or Risk for tstats
	filter     string
	by         []string // raw searches: fields that must be set for a row
	// oktaOnly: BY fields that are Okta's own, which Okta logs on many event types (the samples
	// show them) but no sample of the detection's event type has; the check needs them
	// elsewhere in the samples instead.
	oktaOnly []string
	// status: "runs" (returns rows on our data), "broken" (returns no rows on any Okta data:
	// why says how) or "risk" (reads only the Risk data model, which ES fills from the others).
	status string
	why    string
	// brokenEval: an eval expression from the search that is the same on every matching event
	// however the data looks, with that value: the executable half of a "broken" verdict.
	brokenEval, brokenValue string
}

// oktaMacro is Security Content's `okta` macro.
const oktaMacro = `eventtype=okta_log OR sourcetype = "OktaIM2:log"`

// dataModels are the CIM constraints (CIM 5.x/6.x) of the datasets the detections read.
var dataModels = map[string]struct{ prefix, constraint string }{
	"Authentication": {"Authentication.", `tag=authentication NOT (action=success user=*$)`},
	"Change":         {"All_Changes.", `tag=change NOT (object_category=file OR object_category=directory OR object_category=registry)`},
}

var escuDetections = []escuDetection{
	{name: "Okta Authentication Failed During MFA Challenge", model: "Authentication",
		filter: `Authentication.signature=user.authentication.auth_via_mfa Authentication.action = failure`, status: "runs"},
	{name: "Okta IDP Lifecycle Modifications",
		filter: `eventType IN ("system.idp.lifecycle.activate","system.idp.lifecycle.create","system.idp.lifecycle.delete","system.idp.lifecycle.deactivate")`,
		by:     []string{"src", "dest", "src_user_id", "user", "user_agent", "command", "description"}, status: "runs"},
	{name: "Okta MFA Exhaustion Hunt",
		filter: `eventType=system.push.send_factor_verify_push OR ((legacyEventType=core.user.factor.attempt_success) AND (debugContext.debugData.factor=OKTA_VERIFY_PUSH)) OR ((legacyEventType=core.user.factor.attempt_fail) AND (debugContext.debugData.factor=OKTA_VERIFY_PUSH))`,
		by:     []string{"user"}, status: "runs"},
	{name: "Okta Mismatch Between Source and Response for Verify Push Request",
		filter:     `eventType IN (system.push.send_factor_verify_push) OR (eventType IN (user.authentication.auth_via_mfa) debugContext.debugData.factor="OKTA_VERIFY_PUSH")`,
		status:     "broken",
		why:        `its evals compare the quoted text "outcome.result" (a string in eval, not the field) with "SUCCESS" and "FAILURE", so total_pushes, total_successes and total_rejected are 0 on every event, and suspect_ip_from_source sums if(..., 0, 0); the final search needs total_rejected > 0 or total_pushes > 1, and suspect_ip_from_source > 0: it never returns a row, on any data`,
		brokenEval: `if(eventType="system.push.send_factor_verify_push" AND "outcome.result"="SUCCESS",1,0)`, brokenValue: "0"},
	{name: "Okta Multi-Factor Authentication Disabled", model: "Change",
		filter: `sourcetype="OktaIM2:log" All_Changes.object_category=User AND All_Changes.action=modified All_Changes.command=user.mfa.factor.deactivate`, status: "runs"},
	{name: "Okta Multiple Accounts Locked Out", model: "Change",
		filter: `All_Changes.change_type=AAA All_Changes.object_category=User AND All_Changes.action=lockout AND All_Changes.command=user.account.lock`, status: "runs"},
	{name: "Okta Multiple Failed MFA Requests For User",
		filter: `eventType=user.authentication.auth_via_mfa outcome.result=FAILURE debugContext.debugData.factor!=PASSWORD_AS_FACTOR`,
		by:     []string{"src_user"}, status: "runs"},
	{name: "Okta Multiple Failed Requests to Access Applications",
		filter: `target{}.type=AppInstance (eventType=policy.evaluate_sign_on outcome.result=CHALLENGE) OR (eventType=user.authentication.sso outcome.result=SUCCESS)`,
		by:     []string{"authenticationContext.externalSessionId", "actor.alternateId", "client.ipAddress"}, status: "runs",
		why: `reads only Okta's own fields; its success_apps column compares the quoted text "outcome.result" and is always empty, which does not change what it alerts on`},
	{name: "Okta Multiple Users Failing To Authenticate From Ip", model: "Authentication",
		filter: `Authentication.action="failure" AND Authentication.signature=user.session.start`, status: "runs"},
	{name: "Okta New API Token Created", model: "Change",
		filter: `All_Changes.action=created AND All_Changes.command=system.api_token.create`, status: "runs"},
	{name: "Okta New Device Enrolled on Account", model: "Change",
		filter: `All_Changes.action=created All_Changes.command=device.enrollment.create`, status: "runs"},
	{name: "Okta Phishing Detection with FastPass Origin Check",
		filter: `eventType="user.authentication.auth_via_mfa" AND result="FAILURE" AND outcome.reason="FastPass declined phishing attempt"`,
		by:     []string{"user", "eventType", "client.userAgent.rawUserAgent", "client.userAgent.browser", "outcome.reason"}, status: "runs"},
	{name: "Okta Risk Threshold Exceeded", model: "Risk", status: "risk",
		why: "reads the Risk data model (risk events the other Okta detections create in Enterprise Security), not Okta events"},
	{name: "Okta Successful Single Factor Authentication",
		filter: `action=success src_user_type = User eventType = user.authentication.verify OR eventType = user.authentication.auth_via_mfa`,
		by:     []string{"src_ip", "user", "action"}, status: "runs"},
	{name: "Okta Suspicious Activity Reported",
		filter: `eventType=user.account.report_suspicious_activity_by_enduser`,
		by:     []string{"user", "eventType", "client.userAgent.rawUserAgent", "client.userAgent.browser", "client.geographicalContext.city", "client.geographicalContext.country"}, status: "runs"},
	{name: "Okta Suspicious Use of a Session Cookie",
		filter: `eventType IN (policy.evaluate_sign_on) outcome.result IN (ALLOW, SUCCESS)`,
		by:     []string{"debugContext.debugData.dtHash", "user"}, oktaOnly: []string{"debugContext.debugData.dtHash"}, status: "runs"},
	{name: "Okta ThreatInsight Threat Detected",
		filter: `eventType = security.threat.detected`,
		by: []string{"app", "src_ip", "signature", "eventType", "displayMessage", "client.device", "client.geographicalContext.city", "client.geographicalContext.state",
			"client.geographicalContext.country", "user_agent", "outcome.reason", "outcome.result", "severity"}, status: "runs"},
	{name: "Okta Unauthorized Access to Application", model: "Authentication",
		filter: `Authentication.signature=app.generic.unauth_app_access_attempt Authentication.action="failure"`, status: "runs"},
	{name: "Okta User Logins from Multiple Cities", model: "Authentication",
		filter: `Authentication.signature=user.session.start`, status: "runs"},

	// Deprecated in Security Content, still installed by older ESCU releases.
	{name: "Multiple Okta Users With Invalid Credentials From The Same IP", deprecated: true,
		filter: `eventType=user.session.start outcome.result=FAILURE`,
		by:     []string{"src_ip", "displayMessage", "outcome.reason", "client.geographicalContext.country", "client.geographicalContext.state", "client.geographicalContext.city"}, status: "runs"},
	{name: "Okta Account Locked Out", deprecated: true,
		filter: `eventType=user.account.lock`, by: []string{"src_ip", "eventType", "status"}, status: "runs"},
	{name: "Okta Account Lockout Events", deprecated: true,
		filter: `eventType IN (user.account.lock.limit,user.account.lock)`,
		by:     []string{"displayMessage", "client.geographicalContext.country", "client.geographicalContext.state", "client.geographicalContext.city", "src_ip"}, status: "runs"},
	{name: "Okta Failed SSO Attempts", deprecated: true,
		filter: `eventType=app.generic.unauth_app_access_attempt`, by: []string{"src_user", "result", "displayMessage", "src_ip"}, status: "runs"},
	{name: "Okta ThreatInsight Login Failure with High Unknown users", deprecated: true,
		filter: `eventType="security.threat.detected" AND outcome.reason="Login failures with high unknown users count*"`,
		by:     []string{"user", "eventType", "client.userAgent.rawUserAgent", "client.userAgent.browser", "outcome.reason"}, status: "broken",
		why: `Okta lists every ThreatInsight reason in one outcome.reason ("Password Spray, Login failures with high unknown users count, Login Failures" in the sample), so a value that must start with "Login failures..." misses the events that name a password spray first`},
	{name: "Okta ThreatInsight Suspected PasswordSpray Attack", deprecated: true,
		filter: `eventType="security.threat.detected" AND outcome.reason="Password Spray"`,
		by:     []string{"eventType", "client.userAgent.rawUserAgent", "client.userAgent.browser", "outcome.reason"}, status: "broken",
		why: `it needs outcome.reason to be exactly "Password Spray", but Okta lists every ThreatInsight reason in one value ("Password Spray, Login failures with high unknown users count, Login Failures")`},
	{name: "Okta Two or More Rejected Okta Pushes", deprecated: true,
		filter: `outcome.reason="User rejected Okta push verify" OR (debugContext.debugData.factor="OKTA_VERIFY_PUSH" outcome.result=FAILURE legacyEventType="core.user.factor.attempt_fail" "target{}.detailEntry.methodTypeUsed"="Get a push notification")`,
		by:     []string{"host"}, status: "runs"},
}

// escuRun returns the events a detection's filter selects and those of them that give a row.
func escuRun(t *testing.T, d escuDetection, evs []cimEvent) (matched, rows []cimEvent) {
	q := "(" + oktaMacro + ") " + d.filter
	if dm, ok := dataModels[d.model]; ok {
		q = "(" + dm.constraint + ") " + strings.ReplaceAll(d.filter, dm.prefix, "")
	}
	expr, err := parseSearch(q)
	require.NoError(t, err, d.name)
	for _, e := range evs {
		if !expr.match(e.f) {
			continue
		}
		matched = append(matched, e)
		ok := true
		for _, b := range d.by {
			if len(e.f[b]) == 0 && !slices.Contains(d.oktaOnly, b) {
				ok = false
			}
		}
		if ok {
			rows = append(rows, e)
		}
	}
	return matched, rows
}

func TestESCUDetections(t *testing.T) {
	st := loadSearchTime(t)
	evs := cimEvents(t, st)
	var real []cimEvent
	for _, e := range evs {
		if strings.Contains(e.origin, "okta-samples/") {
			real = append(real, e)
		}
	}
	names := map[string]bool{}
	current := 0
	for _, d := range escuDetections {
		require.False(t, names[d.name], d.name)
		names[d.name] = true
		if !d.deprecated {
			current++
		}
		t.Run(d.name, func(t *testing.T) {
			switch d.status {
			case "risk":
				assert.Equal(t, "Risk", d.model)
				assert.NotEmpty(t, d.why)
				return
			case "runs":
				matched, rows := escuRun(t, d, evs)
				require.NotEmpty(t, matched, "no event matches the filter")
				assert.NotEmpty(t, rows, "events match but none has every BY field %v", d.by)
				for _, f := range d.oktaOnly {
					assert.True(t, slices.ContainsFunc(real, func(e cimEvent) bool { return len(e.f[f]) > 0 }), "Okta logs %s", f)
				}
				_, realRows := escuRun(t, d, real)
				t.Logf("%s: %d events match, %d give rows, %d of them real samples", d.name, len(matched), len(rows), len(realRows))
			case "broken":
				require.NotEmpty(t, d.why)
				if d.brokenEval != "" {
					matched, _ := escuRun(t, d, evs)
					require.NotEmpty(t, matched, "the filter still finds events: the breakage is later in the search")
					e, err := parseEval(d.brokenEval)
					require.NoError(t, err)
					for _, ev := range matched {
						v, err := e.eval(ev.f)
						require.NoError(t, err)
						got, _ := v.first()
						assert.Equal(t, d.brokenValue, got, "%s on %s", d.brokenEval, ev.origin)
					}
				} else {
					_, rows := escuRun(t, d, real)
					assert.Empty(t, rows, "a detection called broken returns rows on the real samples")
				}
			default:
				t.Fatalf("status %q", d.status)
			}
		})
	}
	assert.Equal(t, 19, current, "Security Content's current Okta detections")
}

// TestESCUTranscriptions checks each transcribed filter and BY field against the detection's own
// search, where ESCU_DETECTIONS names a JSON export of Security Content's Okta detections:
// {"<name>": {"search": "<search>", "status": "production|experimental|deprecated", ...}}, made
// from a checkout of splunk/security_content (detections/**/*okta*.yml: name, search, status).
func TestESCUTranscriptions(t *testing.T) {
	raw := readEnvFile(t, "ESCU_DETECTIONS", "an export of Security Content's Okta detections")
	var export map[string]struct{ Search, Status string }
	require.NoError(t, json.Unmarshal(raw, &export))
	space := regexp.MustCompile(`\s+`)
	norm := func(s string) string { return space.ReplaceAllString(strings.TrimSpace(s), " ") }
	for _, d := range escuDetections {
		got, ok := export[d.name]
		if !assert.True(t, ok, "%s is not in the export", d.name) {
			continue
		}
		assert.Equal(t, d.deprecated, got.Status == "deprecated", "%s status %s", d.name, got.Status)
		search := norm(got.Search)
		if d.filter != "" {
			assert.Contains(t, search, norm(d.filter), d.name)
		}
		if d.model != "" {
			assert.Contains(t, search, "datamodel="+d.model, d.name)
		} else {
			assert.True(t, strings.HasPrefix(search, "`okta`"), "%s starts with `okta`", d.name)
		}
		for _, b := range d.by {
			short := strings.TrimPrefix(b, "client.geographicalContext.") // renamed city, state, country
			assert.Contains(t, search, short, "%s reads %s", d.name, b)
		}
		if d.brokenEval != "" {
			assert.Contains(t, search, d.brokenEval, d.name)
		}
	}
	for name, got := range export {
		if !strings.Contains(got.Search, "datamodel=Risk") {
			found := false
			for _, d := range escuDetections {
				found = found || d.name == name
			}
			assert.True(t, found, "%s is not checked here", name)
		}
	}
}
