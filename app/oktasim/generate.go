package oktasim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Defaults of GenOptions' zero fields.
const (
	DefaultUsers  = 100
	DefaultEvents = 1000
	DefaultSpan   = 24 * time.Hour
)

// DefaultStart is where generated events begin when GenOptions.Start is zero: a fixed instant,
// so that the same seed gives the same bytes on every run.
var DefaultStart = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// GenOptions says what Generate and NewStream produce.
type GenOptions struct {
	Users  int           // people in the org (default DefaultUsers)
	Events int           // events to produce (default DefaultEvents)
	Start  time.Time     // earliest published (default DefaultStart)
	Span   time.Duration // events fall in [Start, Start+Span) (default DefaultSpan)
	Seed   uint64        // same seed and options, same bytes
}

func (o GenOptions) withDefaults() GenOptions {
	if o.Users <= 0 {
		o.Users = DefaultUsers
	}
	if o.Events <= 0 {
		o.Events = DefaultEvents
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if o.Span <= 0 {
		o.Span = DefaultSpan
	}
	o.Start = o.Start.UTC().Truncate(time.Millisecond)
	return o
}

// Generate returns exactly opts.Events events as JSON objects, ordered by published then
// uuid: whole sign-in, MFA, app sign-in, password-reset and unlock sequences (some failed or
// abandoned, as in real orgs) of opts.Users users, interleaved with unrelated events. A
// sequence that would run past Start+Span loses its late events.
func Generate(opts GenOptions) [][]byte {
	opts = opts.withDefaults()
	g := newGenerator(opts.Users, opts.Seed, 1)
	end := opts.Start.Add(opts.Span)
	evs := make([]event, 0, opts.Events+32)
	for len(evs) < opts.Events {
		at := opts.Start.Add(time.Duration(g.rng.Int64N(int64(opts.Span))))
		for _, e := range g.scenario(at) {
			if e.published.Before(end) {
				evs = append(evs, e)
			}
		}
	}
	evs = evs[:opts.Events]
	slices.SortFunc(evs, func(a, b event) int {
		if c := a.published.Compare(b.published); c != 0 {
			return c
		}
		return cmp.Compare(a.uuid, b.uuid)
	})
	out := make([][]byte, len(evs))
	buf := make([]byte, 0, 2048*len(evs))
	for i := range evs {
		n := len(buf)
		buf = evs[i].appendJSON(buf)
		out[i] = buf[n:len(buf):len(buf)]
	}
	return out
}

// Stream produces an endless series of events, one at a time, for a live org: the sequences
// of Generate, their events stamped with the times the caller gives.
type Stream struct {
	g       *generator
	pending []event
	last    time.Time
}

// NewStream returns a Stream over the same users as Generate with the same Users and Seed,
// but other sequences. Only Users and Seed are used.
func NewStream(opts GenOptions) *Stream {
	opts = opts.withDefaults()
	return &Stream{g: newGenerator(opts.Users, opts.Seed, 2)}
}

// Next returns the next event, published at now (truncated to the millisecond, and later than
// every event it returned before, so published is strictly ascending).
func (s *Stream) Next(now time.Time) []byte {
	if len(s.pending) == 0 {
		s.pending = s.g.scenario(now)
	}
	e := s.pending[0]
	s.pending = s.pending[1:]
	t := now.UTC().Truncate(time.Millisecond)
	if !t.After(s.last) {
		t = s.last.Add(time.Millisecond)
	}
	s.last = t
	e.published = t
	e.uuid = s.g.uuid(t)
	return e.appendJSON(make([]byte, 0, 2048))
}

// generator holds the org (users) and the randomness of one deterministic run.
type generator struct {
	rng      *rand.Rand
	users    []user
	nodeBase uint64
	count    uint64
}

// newGenerator seeds the users from seed alone and the sequences from seed and stream, so a
// Stream sees Generate's users.
func newGenerator(users int, seed, stream uint64) *generator {
	users0 := newUsers(rand.New(rand.NewPCG(seed, 0x6f6b7461)), users)
	rng := rand.New(rand.NewPCG(seed, 0x73696d00+stream))
	return &generator{rng: rng, users: users0, nodeBase: rng.Uint64()}
}

// uuid is a version-1 (time-based) uuid as Okta's are; the node field carries a per-run
// counter, which makes every uuid of a run unique by construction.
func (g *generator) uuid(t time.Time) string {
	const gregorianOffset = 0x01B21DD213814000 // 100-ns ticks from 1582-10-15 to 1970-01-01
	ticks := uint64(t.UnixNano()/100) + gregorianOffset
	g.count++
	node := (g.nodeBase + g.count) & 0xffffffffffff
	seq := 0x8000 | uint64(g.rng.IntN(0x4000))
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		ticks&0xffffffff, (ticks>>32)&0xffff, 0x1000|(ticks>>48)&0x0fff, seq, node)
}

// scenario is one randomly chosen sequence starting at t.
func (g *generator) scenario(t time.Time) []event {
	f := &flow{g: g, t: t.UTC().Truncate(time.Millisecond)}
	switch weighted(g.rng, scenarioWeights) {
	case 0:
		f.signIn(g.pickUser(), signInOptions{apps: g.rng.IntN(4), logout: g.rng.IntN(5) == 0})
	case 1:
		f.signInMFAFailure(g.pickUser())
	case 2:
		f.badPassword(g.pickUser())
	case 3:
		f.unknownUser()
	case 4:
		f.appSignIn(g.pickUser())
	case 5:
		f.passwordReset(g.pickUser())
	case 6:
		f.unlock(g.pickUser())
	case 7:
		f.enrolment(g.pickUser())
	default:
		f.noise(g.pickUser())
	}
	return f.out
}

// scenarioWeights: sign-in, MFA failure, bad password, unknown user, app sign-in, SSPR,
// unlock, enrolment during sign-in, noise.
var scenarioWeights = []int{38, 4, 6, 2, 19, 6, 4, 3, 13}

func (g *generator) pickUser() *user { return &g.users[g.rng.IntN(len(g.users))] }

func (g *generator) ms(lo, hi int) time.Duration {
	return time.Duration(lo+g.rng.IntN(hi-lo+1)) * time.Millisecond
}

func (g *generator) chance(pct int) bool { return g.rng.IntN(100) < pct }

// flow builds the events of one scenario, advancing its clock as steps happen.
type flow struct {
	g       *generator
	t       time.Time
	actor   party
	client  clientInfo
	device  *deviceInfo
	session string
	tx      string
	out     []event
}

// as makes u the actor, at home with their usual browser, in a new Okta session.
func (f *flow) as(u *user) {
	f.actor = party{id: u.id, typ: "User", alternateID: u.login, displayName: u.name}
	f.client = clientInfo{agent: &agents[u.agent], place: &places[u.home], ip: places[u.home].ipPrefix + fmt.Sprint(u.ipHost)}
	f.device = u.device
	f.session = "idx" + randID(f.g.rng, 22)
	f.newTx()
}

func (f *flow) newTx() { f.tx = randID(f.g.rng, 27) }

func (f *flow) userTarget(u *user) party {
	return party{id: u.id, typ: "User", alternateID: u.login, displayName: u.name}
}

// step appends an event gap after the previous one, filling in actor, client, session,
// transaction and the common debugData.
func (f *flow) step(gap time.Duration, e event, uri string, extra ...kv) {
	f.t = f.t.Add(gap)
	e.published = f.t
	e.uuid = f.g.uuid(f.t)
	if e.actor.id == "" {
		e.actor = f.actor
	}
	if e.client.agent == nil {
		e.client = f.client
	}
	if e.session == "" {
		e.session = f.session
	}
	if e.severity == "" {
		e.severity = "INFO"
	}
	if e.result == "" {
		e.result = "SUCCESS"
	}
	e.txID = f.tx
	e.debug = append([]kv{{"requestId", f.tx}, {"requestUri", uri}, {"url", uri + "?"}}, extra...)
	f.out = append(f.out, e)
}

// behaviors is Okta's debugData.behaviors string for a known or a new place.
func behaviors(newPlace bool) string {
	v := "NEGATIVE"
	if newPlace {
		v = "POSITIVE"
	}
	return "{New Geo-Location=" + v + ", New Device=NEGATIVE, New IP=" + v + ", New State=" + v +
		", New Country=NEGATIVE, Velocity=NEGATIVE, New City=" + v + "}"
}

type signInOptions struct {
	apps   int  // app sign-ins after the Okta sign-in
	logout bool // user.session.end at the end
	forced bool // MFA even when the user's policy would not ask
}

// signIn: user.session.start → policy.evaluate_sign_on → (send) auth_via_mfa →
// user.authentication.verify, then app sign-ins and maybe a sign-out.
func (f *flow) signIn(u *user, o signInOptions) {
	f.as(u)
	mfa := u.mfaPolicy || o.forced
	f.sessionStart()
	f.policy(mfa)
	if mfa {
		f.mfa(u, factors[u.factor], true)
	}
	f.verify(u)
	for range o.apps {
		f.sso(u, f.g.ms(2000, 600000))
	}
	if o.logout {
		f.newTx()
		f.step(f.g.ms(60000, 3600000), event{eventType: "user.session.end", displayMessage: "User logout from Okta",
			legacy: "core.user_auth.logout_success"}, "/login/signout")
	}
}

func (f *flow) sessionStart() {
	f.step(f.g.ms(0, 500), event{
		eventType: "user.session.start", displayMessage: "User login to Okta", legacy: "core.user_auth.login_success",
		authProvider: "OKTA_AUTHENTICATION_PROVIDER", credProvider: "OKTA_CREDENTIAL_PROVIDER", credType: "PASSWORD",
		device: f.device,
		targets: []party{
			{id: "lae" + randID(f.g.rng, 17), typ: "AuthenticatorEnrollment", alternateID: "unknown", displayName: "Password"},
			{id: "0oa" + randID(f.g.rng, 17), typ: "AppInstance", alternateID: "Okta Dashboard", displayName: "Okta Dashboard"},
		},
	}, "/idp/idx/identify", kv{"threatSuspected", "false"}, kv{"risk", "{level=LOW}"}, kv{"behaviors", behaviors(false)})
}

var defaultPolicy = party{id: "00p1abvweGGDW10Ur4x6", typ: "PolicyEntity", alternateID: "unknown", displayName: "Default Policy",
	detail: []kv{{"policyType", "OktaSignOn"}}}

func (f *flow) policy(mfa bool) {
	decision, rule := "ALLOW", party{id: "0pr1abvwfqGFI4n064x6", typ: "PolicyRule", alternateID: "00p1abvweGGDW10Ur4x6", displayName: "Default Rule"}
	if mfa {
		decision, rule = "CHALLENGE", party{id: "0pr1mfa8rQxW2nYb34x6", typ: "PolicyRule", alternateID: "00p1abvweGGDW10Ur4x6", displayName: "Require MFA"}
	}
	f.step(f.g.ms(15, 90), event{
		eventType: "policy.evaluate_sign_on", displayMessage: "Evaluation of sign-on policy", result: decision,
		reason: "Sign-on policy evaluation resulted in " + decision, device: f.device,
		targets: []party{defaultPolicy, rule},
	}, "/idp/idx/identify")
}

// mfa: the factor's send event, if it has one, then user.authentication.auth_via_mfa.
func (f *flow) mfa(u *user, fa factor, ok bool) {
	f.newTx()
	if fa.sendType != "" {
		f.step(f.g.ms(300, 2500), event{eventType: fa.sendType, displayMessage: fa.sendMsg,
			targets: []party{f.userTarget(u)}}, "/idp/idx/challenge")
	}
	e := event{eventType: "user.authentication.auth_via_mfa", displayMessage: "Authentication of user via MFA",
		legacy: "core.user.factor.attempt_success", authProvider: "FACTOR_PROVIDER", credProvider: "OKTA_CREDENTIAL_PROVIDER",
		targets: []party{f.userTarget(u), {id: "pfd" + randID(f.g.rng, 17), typ: "AuthenticatorEnrollment", alternateID: "unknown", displayName: fa.authName}},
	}
	if !ok {
		e.result, e.reason, e.legacy = "FAILURE", "INVALID_CREDENTIALS", "core.user.factor.attempt_fail"
		if fa.name == "OKTA_VERIFY_PUSH" {
			e.reason = "User rejected Okta push verify"
		}
	}
	if fa.name == "OKTA_VERIFY_PUSH" {
		// The push is answered on the phone, so Okta logs the Okta Verify app as the client.
		e.client = f.client
		e.client.agent = &oktaVerifyAgent
	}
	f.step(f.g.ms(2000, 25000), e, fa.requestURI, kv{"factor", fa.name}, kv{"threatSuspected", "false"}, kv{"risk", "{level=LOW}"})
}

func (f *flow) verify(u *user) {
	f.step(f.g.ms(40, 400), event{eventType: "user.authentication.verify", displayMessage: "Verify user identity",
		authProvider: "FACTOR_PROVIDER", device: f.device, targets: []party{f.userTarget(u)}},
		"/idp/idx/authenticators/poll", kv{"threatSuspected", "false"}, kv{"risk", "{level=LOW}"})
}

func (f *flow) sso(u *user, gap time.Duration) {
	f.newTx()
	a := apps[f.g.rng.IntN(len(apps))]
	f.step(gap, event{eventType: "user.authentication.sso", displayMessage: "User single sign on to app", legacy: "app.auth.sso",
		device: f.device,
		targets: []party{
			{id: a.id, typ: "AppInstance", alternateID: a.label, displayName: a.label, detail: []kv{{"signOnModeType", a.signOnMode}}},
			{id: "0ua" + u.id[3:], typ: "AppUser", alternateID: u.login, displayName: u.name},
		},
	}, "/app/"+a.name+"/"+a.id+"/sso/saml", kv{"initiationType", "IDP_INITIATED"}, kv{"signOnMode", a.signOnMode})
}

// signInMFAFailure: the user fails MFA, and half the time retries and gets in.
func (f *flow) signInMFAFailure(u *user) {
	f.as(u)
	f.sessionStart()
	f.policy(true)
	fa := factors[u.factor]
	f.mfa(u, fa, false)
	if f.g.chance(50) {
		f.mfa(u, fa, true)
		f.verify(u)
	}
}

// badPassword: one to three failed sign-ins of a real user; sometimes a lock-out, sometimes a
// success after the failures.
func (f *flow) badPassword(u *user) {
	f.as(u)
	n := 1 + f.g.rng.IntN(3)
	if f.g.chance(10) {
		n = 5 + f.g.rng.IntN(5)
	}
	for i := range n {
		f.newTx()
		reason := "INVALID_CREDENTIALS"
		if i >= 5 {
			reason = "LOCKED_OUT"
		}
		f.step(f.g.ms(3000, 40000), event{eventType: "user.session.start", displayMessage: "User login to Okta",
			legacy: "core.user_auth.login_failed", result: "FAILURE", reason: reason, session: "unknown",
			authProvider: "OKTA_AUTHENTICATION_PROVIDER", credProvider: "OKTA_CREDENTIAL_PROVIDER", credType: "PASSWORD",
		}, "/idp/idx/identify", kv{"loginResult", reason}, kv{"threatSuspected", "false"})
		if i == 4 {
			f.step(f.g.ms(5, 50), event{eventType: "user.account.lock", displayMessage: "Max sign in attempts exceeded",
				legacy: "core.user_auth.account_locked", result: "FAILURE", reason: "LOCKED_OUT", session: "unknown",
				severity: "WARN", targets: []party{f.userTarget(u)}}, "/idp/idx/identify")
		}
	}
	if n < 5 && f.g.chance(50) {
		f.signIn(u, signInOptions{apps: f.g.rng.IntN(2)})
	}
}

// unknownLogins are what attackers and typos try.
var unknownLogins = []string{"admin", "administrator", "test", "root", "it-support@example.com", "helpdesk@example.com", "jsmith@example.com"}

// unknownUser: failed sign-ins for a login that does not exist: actor.id is "unknown" and
// alternateId the attempted login.
func (f *flow) unknownUser() {
	pl := &places[hostilePlaces[f.g.rng.IntN(len(hostilePlaces))]]
	f.client = clientInfo{agent: &attackerAgent, place: pl, ip: pl.ipPrefix + fmt.Sprint(1+f.g.rng.IntN(254))}
	n := 1 + f.g.rng.IntN(4)
	for range n {
		login := unknownLogins[f.g.rng.IntN(len(unknownLogins))]
		if f.g.chance(30) {
			u := f.g.pickUser()
			login = u.login[:len(u.login)-len("@example.com")] + "@exmaple.com" // a typo
		}
		f.newTx()
		f.step(f.g.ms(500, 8000), event{eventType: "user.session.start", displayMessage: "User login to Okta",
			legacy: "core.user_auth.login_failed", result: "FAILURE", reason: "VERIFICATION_ERROR", session: "unknown",
			actor: party{id: "unknown", typ: "User", alternateID: login, displayName: "unknown"},
		}, "/api/v1/authn", kv{"loginResult", "VERIFICATION_ERROR"}, kv{"threatSuspected", "false"})
	}
}

// appSignIn: a signed-in user opens an app: maybe a step-up MFA, then SSO; or the app's policy
// denies an unmanaged device.
func (f *flow) appSignIn(u *user) {
	f.as(u)
	idx := f.g.rng.IntN(len(apps))
	if sensitiveApps[idx] && (u.device == nil || !u.device.managed) && f.g.chance(60) {
		a := apps[idx]
		f.newTx()
		f.step(f.g.ms(0, 100), event{eventType: "application.policy.sign_on.deny_access",
			displayMessage: "User attempted to access app but was denied by sign-on policy", result: "DENY",
			reason: "Device is not managed", severity: "WARN",
			targets: []party{{id: a.id, typ: "AppInstance", alternateID: a.label, displayName: a.label, detail: []kv{{"signOnModeType", a.signOnMode}}}},
		}, "/app/"+a.name+"/"+a.id+"/sso/saml")
		return
	}
	if f.g.chance(20) {
		f.mfa(u, factors[u.factor], true)
	}
	f.sso(u, f.g.ms(100, 3000))
}

var resetChannels = []struct{ typ, msg string }{
	{"system.email.password_reset.sent_message", "Send user password reset email"},
	{"system.sms.send_password_reset_message", "Send password reset SMS message"},
	{"system.voice.send_password_reset_call", "Send password reset voice call"},
}

// passwordReset: SSPR send → (MFA) → user.account.reset_password → update_password, then a
// sign-in; a quarter of users give up after the message, some after the reset.
func (f *flow) passwordReset(u *user) {
	f.as(u)
	ch := resetChannels[weighted(f.g.rng, []int{60, 30, 10})]
	f.step(0, event{eventType: ch.typ, displayMessage: ch.msg, targets: []party{f.userTarget(u)}},
		"/idp/idx/recover")
	if f.g.chance(25) {
		return
	}
	if f.g.chance(50) {
		f.mfa(u, factors[u.factor], true)
	}
	f.newTx()
	f.step(f.g.ms(20000, 300000), event{eventType: "user.account.reset_password", displayMessage: "Fired when the user's Okta password is reset",
		legacy: "core.user.config.user_status.password_reset", targets: []party{f.userTarget(u)}}, "/idp/idx/challenge/answer")
	if f.g.chance(10) {
		return
	}
	f.step(f.g.ms(5000, 90000), event{eventType: "user.account.update_password", displayMessage: "User update password for Okta",
		legacy: "core.user.config.password_update.success", targets: []party{f.userTarget(u)}}, "/idp/idx/challenge/answer")
	f.t = f.t.Add(f.g.ms(1000, 20000))
	f.signIn(u, signInOptions{})
}

var unlockChannels = []struct{ typ, msg string }{
	{"system.email.account_unlock.sent_message", "Send account unlock email"},
	{"system.sms.send_account_unlock_message", "Send account unlock SMS message"},
	{"system.voice.send_account_unlock_call", "Send account unlock voice call"},
}

// unlock: SSU send → (MFA) → (user.account.unlock_token, Classic Engine only) →
// user.account.unlock; a quarter are abandoned after the message.
func (f *flow) unlock(u *user) {
	f.as(u)
	ch := unlockChannels[weighted(f.g.rng, []int{60, 30, 10})]
	f.step(0, event{eventType: ch.typ, displayMessage: ch.msg, targets: []party{f.userTarget(u)}}, "/idp/idx/unlock-account")
	if f.g.chance(25) {
		return
	}
	if f.g.chance(50) {
		f.mfa(u, factors[u.factor], true)
	}
	f.newTx()
	if f.g.chance(50) {
		f.step(f.g.ms(10000, 200000), event{eventType: "user.account.unlock_token", displayMessage: "Unlock user account with recovery token",
			legacy: "core.user.config.user_status.account_unlock_token", targets: []party{f.userTarget(u)}}, "/api/v1/authn/recovery/token")
	}
	f.step(f.g.ms(200, 20000), event{eventType: "user.account.unlock", displayMessage: "User account unlocked",
		legacy: "core.user.config.user_status.account_unlock", targets: []party{f.userTarget(u)}}, "/idp/idx/unlock-account")
}

// enrolment: a sign-in where the policy makes the user enrol a phone factor first.
func (f *flow) enrolment(u *user) {
	f.as(u)
	f.sessionStart()
	f.policy(true)
	f.newTx()
	f.step(f.g.ms(2000, 15000), event{eventType: "system.sms.send_phone_verification_message", displayMessage: "Send phone verification SMS message",
		targets: []party{f.userTarget(u)}}, "/idp/idx/credential/enroll")
	f.step(f.g.ms(10000, 60000), event{eventType: "user.mfa.factor.activate", displayMessage: "User set up SMS Authentication factor",
		legacy: "core.user.factor.activate", reason: "User set up SMS Authentication factor",
		targets: []party{f.userTarget(u), {id: "sms" + randID(f.g.rng, 17), typ: "AuthenticatorEnrollment", alternateID: "unknown", displayName: "Phone"}},
	}, "/idp/idx/challenge/answer")
	f.verify(u)
}

// admin is the org administrator behind administrative noise.
var admin = user{id: "00u1adm1nXq9Zr4Wp5d7", login: "okta.admin@example.com", name: "Okta Admin", home: 1, agent: 0, ipHost: 10}

// noise: events outside the sequences that share the log with them.
func (f *flow) noise(u *user) {
	switch weighted(f.g.rng, []int{30, 20, 20, 20, 10}) {
	case 0:
		f.as(u)
		f.step(0, event{eventType: "user.session.end", displayMessage: "User logout from Okta", legacy: "core.user_auth.logout_success"}, "/login/signout")
	case 1:
		f.as(u)
		a := apps[f.g.rng.IntN(len(apps))]
		f.step(0, event{eventType: "user.authentication.slo", displayMessage: "User single log out from app",
			targets: []party{{id: a.id, typ: "AppInstance", alternateID: a.label, displayName: a.label}}}, "/app/"+a.name+"/"+a.id+"/slo/saml")
	case 2:
		f.as(&admin)
		f.step(0, event{eventType: "group.user_membership.add", displayMessage: "Add user to group membership",
			legacy:  "core.user_group_member.user_add",
			targets: []party{f.userTarget(u), {id: "00g" + randID(f.g.rng, 17), typ: "UserGroup", alternateID: "unknown", displayName: "Engineering"}},
		}, "/api/v1/groups/members")
	case 3:
		f.as(&admin)
		f.step(0, event{eventType: "user.mfa.factor.update", displayMessage: "Update factor for user", legacy: "core.user.factor.update",
			reason: "User updated Okta Verify factor", targets: []party{f.userTarget(u)}}, "/api/v1/users/factors")
	default:
		f.as(u)
		f.step(0, event{eventType: "system.org.rate_limit.warning", displayMessage: "Rate limit warning",
			legacy: "core.framework.ratelimit.warning", severity: "WARN",
			actor: party{id: "00o1okt4Org5aX7Y8d7", typ: "PublicClientApp", alternateID: "Okta", displayName: "Okta"},
		}, "/api/v1/users")
	}
}
