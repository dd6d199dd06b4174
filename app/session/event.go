package session

import "strings"

// Event is the compact record of one Okta System Log event: only the fields the engine uses.
//
// Every field is a plain string except Time and Ref, so a map phase can carry an Event as a
// handful of Splunk fields (see Event.Compact and FromFields). An empty string means "no
// value": extraction turns Okta's `unknown`, `-`, `null` and "null" into "".
type Event struct {
	Time        int64  // published, milliseconds since the Unix epoch; 0 when unknown
	UUID        string // uuid
	Type        string // eventType
	ActorID     string // actor.id
	ActorType   string // actor.type
	ActorLogin  string // actor.alternateId
	ActorName   string // actor.displayName
	TargetID    string // id of the first target of type User
	TargetLogin string // alternateId of the first target of type User
	App         string // displayName of the first target of type AppInstance
	IP          string // client.ipAddress
	UserAgent   string // client.userAgent.rawUserAgent
	SessionID   string // authenticationContext.externalSessionId
	Result      string // outcome.result (SUCCESS, FAILURE, ALLOW, DENY, CHALLENGE, ...)
	Reason      string // outcome.reason
	Factor      string // debugContext.debugData.factor, else the authenticator target's displayName

	// The signals detections read per sequence. Extraction normalizes Behaviors, Risk and
	// Proxy (AppendBehaviors, RiskLevel, Proxy), so that a compact record carries a few bytes
	// of them.
	TransactionID string // transaction.id: a sign-in's start and its policy evaluation share it
	Behaviors     string // names of the POSITIVE debugData.behaviors, comma-separated ("New IP,New Device")
	DTHash        string // debugContext.debugData.dtHash
	Risk          string // debugData.risk's level: LOW, MEDIUM or HIGH
	Country       string // client.geographicalContext.country
	City          string // client.geographicalContext.city
	ASN           string // securityContext.asNumber
	ISP           string // securityContext.isp
	Proxy         string // "true" when securityContext.isProxy is true, else ""

	Ref int64 // the caller's handle on the original row; the engine only hands it back
}

// maxNone is the length of the longest value isNone takes: a longer one needs no look.
const maxNone = len("unknown")

// isNone reports whether an Okta value means "no value".
func isNone(s string) bool {
	switch s {
	case "", "unknown", "-", "null", "NULL", "Null", "None":
		return true
	}
	return false
}

// clean maps Okta's "no value" spellings to "".
func clean(s string) string {
	if isNone(s) {
		return ""
	}
	return s
}

// Flow is one kind of sequence.
type Flow uint8

// The flows the engine reconstructs.
const (
	FlowNone      Flow = iota // the event belongs to no flow
	FlowSignin                // user.session.start → policy → MFA* → user.authentication.verify
	FlowAppSignin             // MFA* → user.authentication.sso or application.policy.sign_on.deny_access
	FlowSSPR                  // reset send → MFA* → reset_password → update_password
	FlowUnlock                // unlock send → MFA* → [unlock_token] → unlock
	numFlows
)

var flowNames = [numFlows]string{"", "signin", "app_signin", "sspr", "unlock"}

// String returns the flow's name as it appears in the flow field.
func (f Flow) String() string {
	if f < numFlows {
		return flowNames[f]
	}
	return ""
}

// role is what an event type does to a flow.
type role uint8

const (
	roleNone     role = iota
	roleStart         // opens a flow, closing the key's open flow of the same kind
	roleContinue      // joins the open flow of its kind, or opens one with earlier steps missing
	roleTerminal      // like roleContinue, and a successful one ends the flow
	roleMFA           // joins the most recently started open flow, or opens an app_signin
)

// class describes one of the 23 event types.
type class struct {
	flow     Flow   // for roleMFA: none
	role     role   // roleNone for types outside every flow
	rank     uint8  // documented step order, breaks ties between events of the same millisecond
	channel  string // email, sms or voice for recovery and MFA sends
	factor   string // Okta factor name implied by an MFA send event
	mfaSend  bool   // an MFA send event (counted in mfa_sent)
	mfaUse   bool   // an MFA verification or enrolment (counted in mfa_verified / mfa_failed)
	onBehalf bool   // an admin acting on a target user belongs to the target's flow
	typ      string // the eventType itself, so a packed event need not copy it
	start    bool   // user.session.start, whose failures are sequences of their own
	deny     bool   // application.policy.sign_on.deny_access
	update   bool   // user.account.update_password, unowned outside a reset
	policy   bool   // policy.evaluate_sign_on: an app's sign-on policy when it has an AppInstance target
	enrol    bool   // user.mfa.factor.activate: an enrolment, counted apart from verifications
	// required holds, per flow, the required steps this type stands for (bit i for
	// required[flow][i]), so that build need not compare the type with each of them.
	required [numFlows]uint8
}

// Event types the engine treats specially.
const (
	typeSessionStart   = "user.session.start"
	typePolicy         = "policy.evaluate_sign_on"
	typeVerify         = "user.authentication.verify"
	typeSSO            = "user.authentication.sso"
	typeDeny           = "application.policy.sign_on.deny_access"
	typeResetPassword  = "user.account.reset_password"
	typeUpdatePassword = "user.account.update_password"
	typeUnlockToken    = "user.account.unlock_token"
	typeUnlock         = "user.account.unlock"
	typeActivate       = "user.mfa.factor.activate"

	// missingResetSend and missingUnlockSend name a flow's absent first step in missing: any
	// one of three send events would do, so no single eventType is right.
	missingResetSend  = "password_reset_send"
	missingUnlockSend = "account_unlock_send"
)

var classes = map[string]*class{
	"system.email.password_reset.sent_message":   {flow: FlowSSPR, role: roleStart, rank: 0, channel: "email", onBehalf: true},
	"system.sms.send_password_reset_message":     {flow: FlowSSPR, role: roleStart, rank: 0, channel: "sms", onBehalf: true},
	"system.voice.send_password_reset_call":      {flow: FlowSSPR, role: roleStart, rank: 0, channel: "voice", onBehalf: true},
	"system.email.account_unlock.sent_message":   {flow: FlowUnlock, role: roleStart, rank: 0, channel: "email", onBehalf: true},
	"system.sms.send_account_unlock_message":     {flow: FlowUnlock, role: roleStart, rank: 0, channel: "sms", onBehalf: true},
	"system.voice.send_account_unlock_call":      {flow: FlowUnlock, role: roleStart, rank: 0, channel: "voice", onBehalf: true},
	typeSessionStart:                             {flow: FlowSignin, role: roleStart, rank: 1},
	typePolicy:                                   {flow: FlowSignin, role: roleContinue, rank: 2},
	"system.push.send_factor_verify_push":        {role: roleMFA, rank: 3, factor: "OKTA_VERIFY_PUSH", mfaSend: true, onBehalf: true},
	"system.email.send_factor_verify_message":    {role: roleMFA, rank: 3, channel: "email", factor: "EMAIL", mfaSend: true, onBehalf: true},
	"system.sms.send_factor_verify_message":      {role: roleMFA, rank: 3, channel: "sms", factor: "SMS", mfaSend: true, onBehalf: true},
	"system.sms.send_phone_verification_message": {role: roleMFA, rank: 3, channel: "sms", factor: "SMS", mfaSend: true, onBehalf: true},
	"system.voice.send_mfa_challenge_call":       {role: roleMFA, rank: 3, channel: "voice", factor: "CALL", mfaSend: true, onBehalf: true},
	"system.voice.send_phone_verification_call":  {role: roleMFA, rank: 3, channel: "voice", factor: "CALL", mfaSend: true, onBehalf: true},
	"user.authentication.auth_via_mfa":           {role: roleMFA, rank: 4, mfaUse: true, onBehalf: true},
	typeActivate:                                 {role: roleMFA, rank: 4, mfaUse: true, onBehalf: true},
	typeResetPassword:                            {flow: FlowSSPR, role: roleContinue, rank: 5, onBehalf: true},
	typeUnlockToken:                              {flow: FlowUnlock, role: roleContinue, rank: 5, onBehalf: true},
	typeUpdatePassword:                           {flow: FlowSSPR, role: roleTerminal, rank: 6, onBehalf: true},
	typeUnlock:                                   {flow: FlowUnlock, role: roleTerminal, rank: 6, onBehalf: true},
	typeVerify:                                   {flow: FlowSignin, role: roleTerminal, rank: 7},
	typeSSO:                                      {flow: FlowAppSignin, role: roleTerminal, rank: 8},
	typeDeny:                                     {flow: FlowAppSignin, role: roleTerminal, rank: 8},
}

func init() {
	for typ, c := range classes {
		c.typ = typ
		c.start = typ == typeSessionStart
		c.deny = typ == typeDeny
		c.update = typ == typeUpdatePassword
		c.policy = typ == typePolicy
		c.enrol = typ == typeActivate
		for f := range Flow(numFlows) {
			c.required[f] = requiredSeen(f, typ, c.role)
		}
		i := typeHash(typ)
		for typeTable[i] != nil {
			i = (i + 1) % uint64(len(typeTable))
		}
		typeTable[i] = c
	}
}

// typeTable holds the classes by eventType for classOf: open addressing over a hash of the
// length and four of the bytes, cheaper per event than a map's hash of the whole type.
var typeTable [128]*class

func typeHash(s string) uint64 {
	h := uint64(len(s))<<32 | uint64(s[len(s)-1])<<24 | uint64(s[len(s)/2])<<16 |
		uint64(s[len(s)/3])<<8 | uint64(s[2*len(s)/3])
	return (h * 0x9e3779b97f4a7c15) >> 57
}

// classOf returns the class of an eventType, nil for types outside every flow.
func classOf(eventType string) *class {
	if eventType == "" {
		return nil
	}
	for i := typeHash(eventType); ; i = (i + 1) % uint64(len(typeTable)) {
		c := typeTable[i]
		if c == nil || c.typ == eventType {
			return c
		}
	}
}

// Sequenced reports whether events of this eventType can belong to a sequence; a map phase
// may drop every other event.
func Sequenced(eventType string) bool { return classOf(eventType) != nil }

// failed reports whether an outcome.result is a failure.
func failed(result string) bool { return result == "FAILURE" }

// denied reports whether an outcome.result is a policy denial.
func denied(result string) bool { return result == "DENY" }

// Risk levels as Okta logs them, lowest first; a packed event keeps the index.
var riskLevels = [...]string{"", "LOW", "MEDIUM", "HIGH"}

// riskIndex returns the index in riskLevels of a normalized level, 0 for none.
func riskIndex(level string) uint8 {
	for i := len(riskLevels) - 1; i > 0; i-- {
		if riskLevels[i] == level {
			return uint8(i)
		}
	}
	return 0
}

// RiskLevel returns the risk level in s, one of riskLevels' constants: s is
// debugContext.debugData.risk as Okta logs it ("{level=LOW}", "{reasons=Anomalous Device,
// level=HIGH}"), the JSON of debugData.logOnlySecurityData ({"risk":{"level":"LOW"},...}), or
// a level already normalized. "" when s names no level Okta uses.
func RiskLevel(s string) string {
	if riskIndex(s) != 0 {
		return riskLevels[riskIndex(s)]
	}
	for off := 0; ; {
		i := strings.Index(s[off:], "level")
		if i < 0 {
			return ""
		}
		i += off
		off = i + len("level")
		if i > 0 && isNameByte(s[i-1]) {
			continue // previousLevel=, riskLevel=
		}
		// level, then = or : (Okta's "level=LOW", JSON's "level":"LOW"), quotes and spaces around.
		v := strings.TrimLeft(s[off:], "\" ")
		if v == "" || (v[0] != '=' && v[0] != ':') {
			continue
		}
		v = strings.TrimLeft(v[1:], "\" ")
		for _, l := range riskLevels[1:] {
			if strings.HasPrefix(v, l) && (len(v) == len(l) || !isNameByte(v[len(l)])) {
				return l
			}
		}
	}
}

// isNameByte reports whether c continues a word.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// positive is the value Okta gives a behavior that was observed.
const positive = "POSITIVE"

// AppendBehaviors appends to dst the names of the behaviors s reports POSITIVE, comma-separated
// in the order logged: s is debugContext.debugData.behaviors as Okta logs it ("{New IP=POSITIVE,
// New Device=NEGATIVE}"), a list of such pairs (["New IP=POSITIVE"]), the JSON of
// logOnlySecurityData ({"behaviors":{"New IP":"POSITIVE"}}), or names already normalized
// ("New IP,New Device"), which it appends unchanged.
func AppendBehaviors(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, "=:") {
		return append(dst, strings.TrimSpace(s)...)
	}
	n := 0
	for off := 0; ; {
		i := strings.Index(s[off:], positive)
		if i < 0 {
			return dst
		}
		i += off
		off = i + len(positive)
		if off < len(s) && isNameByte(s[off]) {
			continue
		}
		name := behaviorName(s[:i])
		if name == "" || strings.ContainsAny(name, "=:,") {
			continue // no name, or one that would not read back from the normalized list
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, name...)
		n++
	}
}

// behaviorName returns the name of the behavior whose value starts where s ends: the
// NAME of "NAME=" or of "\"NAME\":\"", "" when s ends otherwise.
func behaviorName(s string) string {
	if strings.HasSuffix(s, "=") {
		s = s[:len(s)-1]
		start := strings.LastIndexAny(s, "{,[\"") + 1
		return strings.TrimSpace(s[start:])
	}
	s = strings.TrimRight(s, " ")
	if !strings.HasSuffix(s, "\"") {
		return ""
	}
	s = strings.TrimRight(s[:len(s)-1], " ")
	if !strings.HasSuffix(s, ":") {
		return ""
	}
	s = strings.TrimRight(s[:len(s)-1], " ")
	if !strings.HasSuffix(s, "\"") {
		return ""
	}
	s = s[:len(s)-1]
	return strings.TrimSpace(s[strings.LastIndexByte(s, '"')+1:])
}

// Proxy returns "true" when securityContext.isProxy (or its normalized form) is true, else "".
func Proxy(s string) string {
	if s == "true" || s == "True" || s == "TRUE" {
		return "true"
	}
	return ""
}
