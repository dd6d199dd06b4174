package oktasim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// places use the networks of MaxMind's GeoIP test databases (81.2.69.0/24, 67.43.156.0/24, …),
// which the real samples use too, so no real person's address appears in simulated data.
var places = []place{
	{"London", "England", "United Kingdom", "EC1A", 51.5142, -0.0931, "81.2.69.", 20712, "andrews & arnold ltd", "andrews & arnold ltd", "aa.net.uk"},
	{"Dublin", "California", "United States", "94568", 37.7201, -121.919, "67.43.156.", 7922, "comcast", "comcast", "comcast.net"},
	{"Linköping", "Östergötland County", "Sweden", "58102", 58.4167, 15.6167, "89.160.20.", 29518, "bredband2 ab", "bredband2", "bredband2.se"},
	{"Milton", "Washington", "United States", "98354", 47.2513, -122.3149, "216.160.83.", 209, "centurylink", "centurylink", "qwest.net"},
	{"Changchun", "Jilin Sheng", "China", "130000", 43.88, 125.3228, "175.16.199.", 4837, "china unicom", "china unicom", "chinaunicom.cn"},
	{"Boxford", "England", "United Kingdom", "OX1", 51.75, -1.25, "2.125.160.", 5607, "sky uk limited", "sky broadband", "sky.com"},
	{"Purcellville", "Virginia", "United States", "20132", 39.64, -77.8346, "149.101.100.", 701, "verizon", "verizon", "verizon.net"},
	{"Lucerne", "Lucerne", "Switzerland", "6007", 47.0511, 8.3056, "89.160.21.", 3303, "bluewin is an lir and isp in switzerland.", "swisscom (schweiz) ag", "swisscom.ch"},
	{"Bredstedt", "Schleswig-Holstein", "Germany", "25821", 54.6208, 8.9631, "89.160.22.", 62336, "customer access", "purtel.com gmbh", "german-local.net"},
	{"Dois Irmaos", "Rio Grande do Sul", "Brazil", "93950", -29.6116, -51.0933, "67.43.157.", 263297, "renovare telecom", "renovare telecom", "rnvtelecom.com.br"},
}

// hostilePlaces are where failed sign-ins by unknown users and spraying come from.
var hostilePlaces = []int{4, 9}

var agents = []agent{
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36", "Mac OS X", "CHROME", "Computer"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Windows 10", "EDGE_CHROMIUM", "Computer"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36", "Windows 10", "CHROME", "Computer"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Firefox/128.0", "Mac OS X", "FIREFOX", "Computer"},
	{"Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", "Linux", "FIREFOX", "Computer"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Mac OS X", "SAFARI", "Computer"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "iOS", "MOBILE_SAFARI", "Mobile"},
	{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Mobile Safari/537.36", "Android", "CHROME", "Mobile"},
}

// attackerAgent is the user agent of scripted credential attacks.
var attackerAgent = agent{"python-requests/2.31.0", "Unknown", "UNKNOWN", "Unknown"}

// oktaVerifyAgent is the client of push responses and FastPass checks.
var oktaVerifyAgent = agent{"B7F62B65BN.com.okta.mobile/9.21.0 DeviceSDK/1.1.0 iOS/17.5.1 Apple/iPhone15,2", "iOS", "UNKNOWN", "Mobile"}

var firstNames = []string{"Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "John",
	"Radia", "Vint", "Hedy", "Tim", "Katherine", "Edsger", "Sophie", "Donald", "Joan", "Niklaus",
	"Karen", "Leslie", "Shafi", "Bjarne", "Anita", "Guido", "Jean", "Claude", "Lynn", "Robert"}

var lastNames = []string{"Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Backus",
	"Perlman", "Cerf", "Lamarr", "Berners-Lee", "Johnson", "Dijkstra", "Wilson", "Knuth", "Clarke", "Wirth",
	"Jones", "Lamport", "Goldwasser", "Stroustrup", "Borg", "Rossum", "Sammet", "Shannon", "Conway", "Tarjan"}

// app is an application users sign in to through Okta.
type app struct {
	id, label, name, signOnMode string
}

var apps = []app{
	{"0oa1sf3xq7Lk2mPdE5d7", "Salesforce.com", "salesforce", "SAML_2_0"},
	{"0oa1sl4ck9Qw3nRtY5d7", "Slack", "slack", "SAML_2_0"},
	{"0oa1gw5sp2Er4tYuI5d7", "Google Workspace", "google", "SAML_2_0"},
	{"0oa1zm6ty3Rt5yUiO5d7", "Zoom", "zoomus", "SAML_2_0"},
	{"0oa1gh7ub4Ty6uIoP5d7", "GitHub Enterprise Cloud", "githubcloud", "SAML_2_0"},
	{"0oa1jr8ir5Yu7iOpA5d7", "Jira Software", "atlassian", "SAML_2_0"},
	{"0oa1wd9ay6Ui8oPaS5d7", "Workday", "workday", "SAML_2_0"},
	{"0oa1aw0sk7Io9pAsD5d7", "AWS IAM Identity Center", "amazon_aws_sso", "SAML_2_0"},
	{"0oa1sn1ow8Op0aSdF5d7", "ServiceNow", "servicenow_ud", "SAML_2_0"},
	{"0oa1ex2ap9Pa1sDfG5d7", "Expense Portal", "oidc_client", "OPENID_CONNECT"},
}

// sensitiveApps have a stricter app sign-on policy that denies unmanaged devices.
var sensitiveApps = map[int]bool{6: true, 7: true}

// factor is how a user verifies: the send event it needs (if any) and how Okta names it.
type factor struct {
	name       string // debugData.factor
	authName   string // the AuthenticatorEnrollment target's displayName
	sendType   string // "" when the factor has no send step
	sendMsg    string
	requestURI string
}

var factors = []factor{
	{"OKTA_VERIFY_PUSH", "Okta Verify", "system.push.send_factor_verify_push", "Push notification sent for verification", "/idp/idx/authenticators/poll"},
	{"SIGNED_NONCE", "Okta Verify", "", "", "/idp/idx/authenticators/okta-verify/launch"},
	{"FIDO_WEBAUTHN", "Security Key or Biometric", "", "", "/idp/idx/challenge/answer"},
	{"EMAIL_FACTOR", "Email", "system.email.send_factor_verify_message", "Send factor verify email message", "/idp/idx/challenge/answer"},
	{"SMS_FACTOR", "Phone", "system.sms.send_factor_verify_message", "Send factor verify SMS message", "/idp/idx/challenge/answer"},
	{"CALL_FACTOR", "Phone", "system.voice.send_mfa_challenge_call", "Send MFA challenge voice call", "/idp/idx/challenge/answer"},
}

// factorWeights is how often users prefer each factor.
var factorWeights = []int{45, 15, 12, 12, 12, 4}

// user is one person in the simulated org.
type user struct {
	id, login, name string
	home            int // index into places
	agent           int // index into agents
	ipHost          int
	factor          int // preferred factor
	device          *deviceInfo
	mfaPolicy       bool // the sign-on policy asks this user for MFA at every sign-in
}

// newUsers makes n users deterministically from rng.
func newUsers(rng *rand.Rand, n int) []user {
	users := make([]user, n)
	seen := make(map[string]int, n)
	for i := range users {
		first := firstNames[rng.IntN(len(firstNames))]
		last := lastNames[rng.IntN(len(lastNames))]
		login := strings.ToLower(first + "." + strings.ReplaceAll(last, "-", ""))
		seen[login]++
		if k := seen[login]; k > 1 {
			login = fmt.Sprintf("%s%d", login, k)
		}
		u := user{
			id:        "00u" + randID(rng, 17),
			login:     login + "@example.com",
			name:      first + " " + last,
			home:      rng.IntN(len(places)),
			agent:     rng.IntN(len(agents)),
			ipHost:    1 + rng.IntN(254),
			factor:    weighted(rng, factorWeights),
			mfaPolicy: rng.IntN(10) < 7,
		}
		if rng.IntN(10) < 4 {
			u.device = &deviceInfo{
				id: "guo" + randID(rng, 17), name: "MacBookPro18,2", platform: "OSX", version: "14.6.0",
				screenLock: "BIOMETRIC", managed: rng.IntN(2) == 0,
			}
		}
		users[i] = u
	}
	return users
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randID is an Okta-style opaque id body of n base62 characters.
func randID(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = base62[rng.IntN(len(base62))]
	}
	return string(b)
}

// weighted picks an index with probability proportional to its weight.
func weighted(rng *rand.Rand, w []int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	r := rng.IntN(total)
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1
}
