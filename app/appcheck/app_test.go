package appcheck

import (
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/session"
)

// root is the repository root, which is the Splunk app folder.
const root = "../.."

// sequenceEventTypes are the 23 sign-in and recovery event types of Okta's documented flows
// (shared/docs/okta-sequences.md), in that document's order.
var sequenceEventTypes = []string{
	"user.session.start", "policy.evaluate_sign_on", "user.authentication.verify",
	"user.authentication.sso", "application.policy.sign_on.deny_access",
	"user.authentication.auth_via_mfa", "user.mfa.factor.activate",
	"system.push.send_factor_verify_push", "system.email.send_factor_verify_message",
	"system.sms.send_factor_verify_message", "system.sms.send_phone_verification_message",
	"system.voice.send_mfa_challenge_call", "system.voice.send_phone_verification_call",
	"system.email.password_reset.sent_message", "system.sms.send_password_reset_message",
	"system.voice.send_password_reset_call", "user.account.reset_password", "user.account.update_password",
	"system.email.account_unlock.sent_message", "system.sms.send_account_unlock_message",
	"system.voice.send_account_unlock_call", "user.account.unlock_token", "user.account.unlock",
}

// schemeArgs are the arguments oktainput's --scheme declares.
var schemeArgs = []string{"org_url", "api_token", "start_date", "poll_interval", "page_limit", "rate_limit_pct", "filter", "q", "ca_file",
	"auth_type", "client_id", "private_key", "key_id", "dpop", "scopes", "proxy_url", "proxy_username", "proxy_password", "backfill_since", "backfill_until", "backfill_dedup", "checkpoint_store"}

// splunkInputKeys are the keys splunkd passes to every modular input besides its own arguments
// (app/inputconf accepts exactly these).
var splunkInputKeys = []string{"interval", "index", "host", "source", "sourcetype", "disabled", "python.version", "start_by_shell", "run_introspection"}

// splunkImplicitKeys are the settings every modular input has without declaring them ("source,
// sourcetype, host, index, disabled are always implicitly defined": Splunk's "Modular inputs
// spec file" page); specSplunkKeys are the Splunk settings README/inputs.conf.spec declares
// because default/inputs.conf sets them and Splunk's inputs.conf.spec documents them only for
// script:// stanzas.
var (
	splunkImplicitKeys = []string{"index", "host", "source", "sourcetype", "disabled"}
	specSplunkKeys     = []string{"interval", "start_by_shell"}
)

// splunkCommands are the SPL commands Splunk ships that this app's searches may use.
var splunkCommands = []string{
	"addinfo", "append", "bin", "bucket", "chart", "convert", "dedup", "eval", "eventstats", "fields",
	"fillnull", "head", "inputlookup", "lookup", "makeresults", "mvexpand", "rename", "rex", "search",
	"sort", "spath", "stats", "streamstats", "table", "tail", "timechart", "top", "transpose", "tstats",
	"where", "rare", "reverse",
}

func readConf(t *testing.T, rel string, spec bool) *confFile {
	t.Helper()
	f, err := os.Open(filepath.Join(root, rel))
	require.NoError(t, err)
	defer f.Close()
	c, err := parseConf(f, spec)
	require.NoError(t, err, rel)
	return c
}

func TestEveryConfParses(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "default", "*.conf"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 8, "default/*.conf")
	for _, f := range append(files, filepath.Join(root, "metadata", "default.meta")) {
		rel, _ := filepath.Rel(root, f)
		t.Run(rel, func(t *testing.T) { readConf(t, rel, false) })
	}
	readConf(t, "README/inputs.conf.spec", true)
}

func TestAppIdentity(t *testing.T) {
	app := readConf(t, "default/app.conf", false)
	version := app.Stanza("launcher").Values["version"]
	require.Regexp(t, `^\d+\.\d+\.\d+$`, version)
	assert.Equal(t, version, app.Stanza("id").Values["version"], "[id] and [launcher] versions")
	assert.Equal(t, "oktasight", app.Stanza("id").Values["name"])
	assert.Equal(t, "oktasight", app.Stanza("package").Values["id"])
	assert.NotEmpty(t, app.Stanza("ui").Values["label"])
	// AppInspect fails an app that ships "already set up" (the admin's first visit sets it).
	assert.NotContains(t, app.Stanza("install").Keys, "is_configured")

	// The Makefile reads the first "version = " line.
	raw, err := os.ReadFile(filepath.Join(root, "default/app.conf"))
	require.NoError(t, err)
	first := regexp.MustCompile(`(?m)^version *= *(.*)$`).FindStringSubmatch(string(raw))
	require.NotNil(t, first)
	assert.Equal(t, version, first[1])

	var manifest struct {
		SchemaVersion string `json:"schemaVersion"`
		Info          struct {
			ID      struct{ Name, Version string }   `json:"id"`
			License struct{ Name, Text, URI string } `json:"license"`
		} `json:"info"`
	}
	raw, err = os.ReadFile(filepath.Join(root, "app.manifest"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &manifest))
	assert.Equal(t, "2.0.0", manifest.SchemaVersion)
	assert.Equal(t, "oktasight", manifest.Info.ID.Name)
	assert.Equal(t, version, manifest.Info.ID.Version)
	// The manifest names the license and points at its text, which ships (scripts/package.sh).
	assert.Equal(t, "Apache License 2.0", manifest.Info.License.Name)
	assert.Equal(t, "https://www.apache.org/licenses/LICENSE-2.0", manifest.Info.License.URI)
	license, err := os.ReadFile(filepath.Join(root, manifest.Info.License.Text))
	require.NoError(t, err, "app.manifest license.text")
	assert.Contains(t, string(license), "Apache License\n                           Version 2.0, January 2004")
	assert.Contains(t, string(license), "Copyright 2026 oktasight")
}

func TestInputsSpecAndDefaults(t *testing.T) {
	spec := readConf(t, "README/inputs.conf.spec", true)
	var stanzas []string
	for _, s := range spec.Stanzas {
		if s.Name != "" {
			stanzas = append(stanzas, s.Name)
		}
	}
	require.Equal(t, []string{"oktainput://<name>"}, stanzas)
	declared := spec.Stanza("oktainput://<name>").Keys
	assert.Equal(t, append(slices.Clone(schemeArgs), specSplunkKeys...), declared,
		"the spec lists the scheme's arguments, then the Splunk settings default/inputs.conf sets")

	inputs := readConf(t, "default/inputs.conf", false)
	def := inputs.Stanza("oktainput")
	require.NotNil(t, def, "[oktainput] default stanza")
	for _, k := range def.Keys {
		assert.True(t, slices.Contains(splunkInputKeys, k) || slices.Contains(schemeArgs, k),
			"[oktainput] %s would reach oktainput as an unknown setting", k)
		// btool check knows the implicit keys and the spec's: anything else it reports.
		assert.True(t, slices.Contains(splunkImplicitKeys, k) || slices.Contains(declared, k),
			"[oktainput] %s is declared neither by Splunk for every input nor in README/inputs.conf.spec", k)
	}
	assert.Equal(t, "60", def.Values["interval"])
	assert.Equal(t, "OktaIM2:log", def.Values["sourcetype"])
	for _, s := range inputs.Stanzas {
		assert.Contains(t, []string{"", "oktainput"}, s.Name, "default/inputs.conf ships no input of its own")
	}
}

func TestMetadataExportsKnowledgeObjects(t *testing.T) {
	meta := readConf(t, "metadata/default.meta", false)
	for _, kind := range []string{"props", "transforms", "lookups", "eventtypes", "tags", "macros", "commands"} {
		s := meta.Stanza(kind)
		if assert.NotNil(t, s, "[%s]", kind) {
			assert.Equal(t, "system", s.Values["export"], "[%s] export", kind)
		}
	}
	assert.Contains(t, meta.Stanza("").Values["access"], "read : [ * ]")
}

// spl is what the content checks know about the app's knowledge objects.
type spl struct {
	macros     map[string]string // name (name(n) for n arguments) -> definition
	eventtypes *confFile
	transforms *confFile
	commands   map[string]bool // custom commands in commands.conf
}

func loadSPL(t *testing.T) *spl {
	s := &spl{macros: map[string]string{}, eventtypes: readConf(t, "default/eventtypes.conf", false),
		transforms: readConf(t, "default/transforms.conf", false), commands: map[string]bool{}}
	for _, st := range readConf(t, "default/macros.conf", false).Stanzas {
		if st.Name != "" {
			s.macros[st.Name] = st.Values["definition"]
		}
	}
	if _, err := os.Stat(filepath.Join(root, "default/commands.conf")); err == nil {
		for _, st := range readConf(t, "default/commands.conf", false).Stanzas {
			if st.Name != "" {
				s.commands[st.Name] = true
			}
		}
	}
	return s
}

var macroRef = regexp.MustCompile("`([A-Za-z0-9_]+)(?:\\(([^`]*)\\))?`")

// expand replaces every macro reference recursively, reporting each undefined one.
func (s *spl) expand(q string, depth int, bad func(string)) string {
	if depth > 10 {
		bad("macro expansion deeper than 10")
		return q
	}
	return macroRef.ReplaceAllStringFunc(q, func(m string) string {
		sub := macroRef.FindStringSubmatch(m)
		name := sub[1]
		if sub[2] != "" {
			name += "(" + strconv.Itoa(len(strings.Split(sub[2], ","))) + ")"
		}
		def, ok := s.macros[name]
		if !ok {
			bad("macro `" + name + "` is not defined in macros.conf")
			return ""
		}
		return s.expand(def, depth+1, bad)
	})
}

// segments splits SPL into its commands at top-level pipes; subsearches come back as extra
// searches of their own.
func segments(q string) (segs []string, subsearches []string) {
	var cur strings.Builder
	depth, quote := 0, false
	var sub strings.Builder
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case quote:
			if ch == '\\' && i+1 < len(q) {
				cur.WriteByte(ch)
				i++
				ch = q[i]
			} else if ch == '"' {
				quote = false
			}
		case ch == '"':
			quote = true
		case ch == '[':
			depth++
			if depth == 1 {
				sub.Reset()
				continue
			}
		case ch == ']' && depth > 0:
			depth--
			if depth == 0 {
				subsearches = append(subsearches, sub.String())
				continue
			}
		case ch == '|' && depth == 0:
			segs = append(segs, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		if depth > 0 {
			sub.WriteByte(ch)
		} else {
			cur.WriteByte(ch)
		}
	}
	segs = append(segs, strings.TrimSpace(cur.String()))
	return segs, subsearches
}

var (
	eventtypeRef = regexp.MustCompile(`(?i)\beventtype\s*=\s*"?([A-Za-z0-9_-]+)"?`)
	quoted       = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

// checkSearch reports every macro, eventtype, lookup and command q uses that the app does not
// define and Splunk does not ship, and returns the expanded search's commands.
func (s *spl) checkSearch(q string, bad func(string)) (expanded string) {
	expanded = s.expand(q, 0, bad)
	var walk func(string)
	walk = func(search string) {
		segs, subs := segments(search)
		for i, seg := range segs {
			if seg == "" {
				if i != 0 {
					bad("empty command between pipes")
				}
				continue
			}
			for _, m := range eventtypeRef.FindAllStringSubmatch(quoted.ReplaceAllString(seg, `""`), -1) {
				if s.eventtypes.Stanza(m[1]) == nil {
					bad("eventtype " + m[1] + " is not defined in eventtypes.conf")
				}
			}
			words := strings.Fields(seg)
			cmd := strings.ToLower(words[0])
			if i == 0 && !strings.HasPrefix(strings.TrimSpace(search), "|") {
				cmd = "search" // a search's first segment is an implicit search
			}
			if !slices.Contains(splunkCommands, cmd) && !s.commands[cmd] {
				if cmd == "oktasession" && len(s.commands) == 0 {
					continue // default/commands.conf is not written yet: nothing to check against
				}
				bad("command " + cmd + " is neither Splunk's nor in commands.conf")
			}
			if cmd == "lookup" || cmd == "inputlookup" {
				for _, w := range words[1:] {
					if !strings.Contains(w, "=") {
						if s.transforms.Stanza(w) == nil {
							bad("lookup " + w + " is not defined in transforms.conf")
						}
						break
					}
				}
			}
		}
		for _, sub := range subs {
			walk(sub)
		}
	}
	walk(expanded)
	return expanded
}

func TestMacrosAndEventtypesResolve(t *testing.T) {
	s := loadSPL(t)
	for name, def := range s.macros {
		require.NotEmpty(t, def, "macro %s has no definition", name)
		s.expand(def, 0, func(msg string) { t.Errorf("macro %s: %s", name, msg) })
	}
	tags := readConf(t, "default/tags.conf", false)
	for _, st := range tags.Stanzas {
		if st.Name == "" {
			continue
		}
		et, ok := strings.CutPrefix(st.Name, "eventtype=")
		require.True(t, ok, "tags.conf [%s]: only eventtype tags", st.Name)
		assert.NotNil(t, s.eventtypes.Stanza(et), "tags.conf tags eventtype %s, which eventtypes.conf lacks", et)
	}
	for _, st := range s.eventtypes.Stanzas {
		if st.Name != "" {
			assert.Contains(t, st.Values["search"], `sourcetype="OktaIM2:log"`, "eventtype %s", st.Name)
		}
	}
	assert.Equal(t, `sourcetype="OktaIM2:log"`, s.eventtypes.Stanza("okta_log").Values["search"],
		"Security Content's `okta` macro is eventtype=okta_log: it must match every OktaIM2:log event, whatever the source")

	props := readConf(t, "default/props.conf", false)
	for _, k := range props.Stanza("OktaIM2:log").Keys {
		if strings.HasPrefix(k, "LOOKUP-") {
			name := strings.Fields(props.Stanza("OktaIM2:log").Values[k])[0]
			assert.NotNil(t, s.transforms.Stanza(name), "%s uses lookup %s", k, name)
		}
	}
	for _, st := range s.transforms.Stanzas {
		if f := st.Values["filename"]; f != "" {
			assert.FileExists(t, filepath.Join(root, "lookups", f), "transforms.conf [%s]", st.Name)
		}
	}
}

// savedSearches returns savedsearches.conf's stanzas, the file's default stanza left out.
func savedSearches(t *testing.T) []*confStanza {
	var out []*confStanza
	for _, st := range readConf(t, "default/savedsearches.conf", false).Stanzas {
		if st.Name != "" {
			out = append(out, st)
		}
	}
	return out
}

func TestSavedSearches(t *testing.T) {
	s := loadSPL(t)
	searches := savedSearches(t)
	require.GreaterOrEqual(t, len(searches), 12)
	for _, st := range searches {
		t.Run(st.Name, func(t *testing.T) {
			q := st.Values["search"]
			require.NotEmpty(t, q)
			require.NotEmpty(t, st.Values["description"])
			s.checkSearch(q, func(msg string) { t.Error(msg) })
			isAlert := st.Values["counttype"] != "" || strings.Contains(st.Name, "Alert")
			if isAlert {
				assert.Equal(t, "1", st.Values["disabled"], "alerts ship disabled")
				assert.Equal(t, "1", st.Values["enableSched"], "an alert has a schedule for when it is enabled")
				assert.NotEmpty(t, st.Values["cron_schedule"])
				assert.Equal(t, "number of events", st.Values["counttype"])
				assert.Contains(t, st.Name, "Alert")
				// A threshold lives in a macro: no bare number after a comparison, except the
				// structural ones (more than one IP, the window arithmetic).
				for _, m := range regexp.MustCompile(`(>=|<=|>|<|==)\s*(\d+)`).FindAllStringSubmatch(q, -1) {
					assert.Contains(t, []string{"0", "1", "900", "3600"}, m[2], "bare threshold %q: put it in a macro", m[0])
				}
			} else {
				assert.NotEqual(t, "1", st.Values["disabled"], "reports ship enabled")
			}
		})
	}
}

// fieldsAfterOktasession returns the fields the commands after `| oktasession` read that none
// of them defines: each must be one oktasession writes.
func fieldsAfterOktasession(segs []string) []string {
	ident := regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_.{}]*`)
	asName := regexp.MustCompile(`(?i)\bAS\s+(?:"([^"]+)"|([A-Za-z_]\w*))`)
	evalLHS := regexp.MustCompile(`(?:^|,)\s*([A-Za-z_]\w*)\s*=[^=]`)
	option := regexp.MustCompile(`\b[A-Za-z_]+=\S+`)
	keywords := map[string]bool{"as": true, "by": true, "and": true, "or": true, "not": true, "over": true,
		"true": true, "false": true, "null": true, "in": true, "like": true}
	defined := map[string]bool{"info_min_time": true, "info_max_time": true, "info_search_time": true, "info_sid": true, "count": true}
	var missing []string
	seen := false
	for _, seg := range segs {
		words := strings.Fields(seg)
		if len(words) == 0 {
			continue
		}
		cmd := strings.ToLower(words[0])
		if cmd == "oktasession" {
			seen = true
			continue
		}
		if !seen {
			continue
		}
		body := strings.TrimSpace(strings.TrimPrefix(seg, words[0]))
		for _, m := range asName.FindAllStringSubmatch(body, -1) {
			defined[m[1]+m[2]] = true
		}
		switch cmd {
		case "eval":
			for _, m := range evalLHS.FindAllStringSubmatch(quoted.ReplaceAllString(body, `""`), -1) {
				defined[m[1]] = true
			}
			body = evalLHS.ReplaceAllString(quoted.ReplaceAllString(body, `""`), ",")
		case "rename", "transpose", "head", "convert":
			continue
		case "where":
		default:
			body = option.ReplaceAllString(body, "")
		}
		body = asName.ReplaceAllString(quoted.ReplaceAllString(body, `""`), "")
		for _, loc := range ident.FindAllStringIndex(body, -1) {
			id := body[loc[0]:loc[1]]
			next := strings.TrimLeft(body[loc[1]:], " ")
			if keywords[strings.ToLower(id)] || strings.HasPrefix(next, "(") || defined[id] || slices.Contains(session.SequenceFields, id) {
				continue
			}
			missing = append(missing, id)
		}
	}
	return missing
}

func TestOktasessionSearchesUseItsFields(t *testing.T) {
	s := loadSPL(t)
	checked := 0
	check := func(name, q string) {
		segs, _ := segments(s.expand(q, 0, func(string) {}))
		uses := slices.ContainsFunc(segs, func(seg string) bool { return strings.HasPrefix(seg, "oktasession") })
		if !uses {
			return
		}
		checked++
		assert.Empty(t, fieldsAfterOktasession(segs), "%s: fields oktasession does not write (see session.SequenceFields)", name)
	}
	for _, st := range savedSearches(t) {
		check(st.Name, st.Values["search"])
	}
	for name, queries := range dashboardQueries(t) {
		for id, q := range queries {
			check(name+" "+id, q)
		}
	}
	assert.GreaterOrEqual(t, checked, 10, "searches on oktasession")
	// The check itself must catch a field oktasession does not write.
	segs, _ := segments(`x | oktasession | where mfa_count > 1 | stats count AS n BY flow | eval r = n / total`)
	assert.Equal(t, []string{"mfa_count", "total"}, fieldsAfterOktasession(segs))
}

// dashboard is the part of a Dashboard Studio definition the checks read.
type dashboard struct {
	Title          string `json:"title"`
	Visualizations map[string]struct {
		Type        string            `json:"type"`
		DataSources map[string]string `json:"dataSources"`
	} `json:"visualizations"`
	DataSources map[string]struct {
		Type    string `json:"type"`
		Options struct {
			Query  string `json:"query"`
			Extend string `json:"extend"`
		} `json:"options"`
	} `json:"dataSources"`
	Inputs map[string]struct {
		Type    string `json:"type"`
		Options struct {
			Token string `json:"token"`
		} `json:"options"`
	} `json:"inputs"`
	// Layout is Dashboard Studio's current layout: tabs, each naming one of layoutDefinitions.
	Layout struct {
		Tabs struct {
			Items []struct {
				LayoutID string `json:"layoutId"`
				Label    string `json:"label"`
			} `json:"items"`
		} `json:"tabs"`
		LayoutDefinitions map[string]struct {
			Type      string `json:"type"`
			Structure []struct {
				Item string `json:"item"`
				Type string `json:"type"`
			} `json:"structure"`
		} `json:"layoutDefinitions"`
		GlobalInputs []string `json:"globalInputs"`
		// Structure is the flat layout Splunk migrates on load; a definition must not use it.
		Structure []json.RawMessage `json:"structure"`
	} `json:"layout"`
}

// drilldownURLs returns the url of every drilldown.customUrl event handler of the definition.
func drilldownURLs(t *testing.T, definition string) []string {
	var d struct {
		Visualizations map[string]struct {
			EventHandlers []struct {
				Type    string `json:"type"`
				Options struct {
					URL string `json:"url"`
				} `json:"options"`
			} `json:"eventHandlers"`
		} `json:"visualizations"`
	}
	require.NoError(t, json.Unmarshal([]byte(definition), &d))
	var urls []string
	for _, v := range d.Visualizations {
		for _, h := range v.EventHandlers {
			if h.Type == "drilldown.customUrl" {
				urls = append(urls, h.Options.URL)
			}
		}
	}
	return urls
}

func readDashboard(t *testing.T, path string) (label string, d dashboard) {
	label, d, _ = readDashboardDefinition(t, path)
	return label, d
}

// readDashboardDefinition also returns the definition's JSON text.
func readDashboardDefinition(t *testing.T, path string) (label string, d dashboard, definition string) {
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var view struct {
		XMLName    xml.Name `xml:"dashboard"`
		Version    string   `xml:"version,attr"`
		Label      string   `xml:"label"`
		Definition string   `xml:"definition"`
	}
	require.NoError(t, xml.Unmarshal(raw, &view), path)
	require.Equal(t, "2", view.Version, "%s: a Dashboard Studio view", path)
	dec := json.NewDecoder(strings.NewReader(view.Definition))
	dec.DisallowUnknownFields()
	require.NoError(t, json.Unmarshal([]byte(view.Definition), &d), "%s: definition JSON", path)
	return view.Label, d, view.Definition
}

// dashboardQueries returns each dashboard's full queries (a chain with its base prepended).
func dashboardQueries(t *testing.T) map[string]map[string]string {
	files := dashboardFiles(t)
	out := map[string]map[string]string{}
	for _, f := range files {
		_, d := readDashboard(t, f)
		qs := map[string]string{}
		var full func(id string, depth int) string
		full = func(id string, depth int) string {
			ds := d.DataSources[id]
			if ds.Type == "ds.chain" && depth < 5 {
				return full(ds.Options.Extend, depth+1) + " " + ds.Options.Query
			}
			return ds.Options.Query
		}
		for id := range d.DataSources {
			qs[id] = full(id, 0)
		}
		out[filepath.Base(f)] = qs
	}
	return out
}

// setupView is the one view that is not a Dashboard Studio dashboard: the setup page, a
// Simple XML view whose script (built from web/setup) renders it; TestSetupView checks it.
const setupView = "oktasight_setup.xml"

// dashboardFiles are the app's Dashboard Studio views.
func dashboardFiles(t *testing.T) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(root, "default/data/ui/views/*.xml"))
	require.NoError(t, err)
	var files []string
	for _, f := range all {
		if filepath.Base(f) != setupView {
			files = append(files, f)
		}
	}
	return files
}

// TestSetupView: the setup view loads the committed page script and stylesheet (which exist
// under appserver/static, so Splunk Web can serve them), mounts it into the element the script
// looks for, and is in the navigation. That the script matches its sources is make setup-test's
// check (web/setup: npm run check).
func TestSetupView(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "default/data/ui/views", setupView))
	require.NoError(t, err)
	var view struct {
		XMLName    xml.Name `xml:"dashboard"`
		Version    string   `xml:"version,attr"`
		Script     string   `xml:"script,attr"`
		Stylesheet string   `xml:"stylesheet,attr"`
		Label      string   `xml:"label"`
		HTML       struct {
			Inner string `xml:",innerxml"`
		} `xml:"row>panel>html"`
	}
	require.NoError(t, xml.Unmarshal(raw, &view))
	assert.Equal(t, "1.1", view.Version, "Simple XML 1.1 (jQuery 3.5), which Splunk Cloud accepts for scripts")
	assert.NotEmpty(t, view.Label)
	for _, f := range []string{view.Script, view.Stylesheet} {
		require.NotEmpty(t, f)
		assert.FileExists(t, filepath.Join(root, "appserver/static", f))
	}
	assert.Contains(t, view.HTML.Inner, `id="oktasight-setup"`)
	js, err := os.ReadFile(filepath.Join(root, "appserver/static", view.Script))
	require.NoError(t, err)
	assert.Contains(t, string(js), `"oktasight-setup"`, "the script mounts into the view's element")
	nav, err := os.ReadFile(filepath.Join(root, "default/data/ui/nav/default.xml"))
	require.NoError(t, err)
	assert.Contains(t, string(nav), `<view name="oktasight_setup"`)
}

func TestDashboards(t *testing.T) {
	s := loadSPL(t)
	files := dashboardFiles(t)
	require.Len(t, files, 4)
	raw, err := os.ReadFile(filepath.Join(root, "default/data/ui/nav/default.xml"))
	require.NoError(t, err)
	tokenRef := regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_.]*)\$`)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(name, func(t *testing.T) {
			assert.Contains(t, string(raw), `<view name="`+name+`"`, "the navigation lists it")
			label, d, definition := readDashboardDefinition(t, f)
			assert.NotEmpty(t, label)
			require.NotEmpty(t, d.Visualizations)
			tokens := map[string]bool{}
			for id, in := range d.Inputs {
				require.NotEmpty(t, in.Options.Token, "input %s", id)
				tokens[in.Options.Token] = true
				assert.Contains(t, d.Layout.GlobalInputs, id, "input %s is laid out", id)
			}
			used := map[string]bool{}
			for id, v := range d.Visualizations {
				ds := v.DataSources["primary"]
				assert.Contains(t, d.DataSources, ds, "visualization %s reads data source %q", id, ds)
				used[ds] = true
			}
			for id, ds := range d.DataSources {
				if ds.Type == "ds.chain" {
					assert.Contains(t, d.DataSources, ds.Options.Extend, "chain %s extends", id)
					used[ds.Options.Extend] = true
				}
			}
			for id, ds := range d.DataSources {
				assert.Contains(t, []string{"ds.search", "ds.chain"}, ds.Type, "data source %s", id)
				assert.NotEmpty(t, strings.TrimSpace(ds.Options.Query), "data source %s has a query", id)
				assert.True(t, used[id], "data source %s is used by a visualization or a chain", id)
			}
			assert.Empty(t, d.Layout.Structure, "layout.structure is the old flat layout: use tabs and layoutDefinitions")
			require.NotEmpty(t, d.Layout.Tabs.Items, "layout.tabs")
			tabbed := map[string]bool{}
			for _, tab := range d.Layout.Tabs.Items {
				assert.Contains(t, d.Layout.LayoutDefinitions, tab.LayoutID, "tab %q shows a layout definition", tab.Label)
				tabbed[tab.LayoutID] = true
			}
			var laid []string
			for id, ld := range d.Layout.LayoutDefinitions {
				assert.True(t, tabbed[id], "layout definition %s is on a tab", id)
				assert.Contains(t, []string{"grid", "absolute"}, ld.Type, "layout definition %s", id)
				for _, it := range ld.Structure {
					laid = append(laid, it.Item)
				}
			}
			// A drilldown opens one of the app's views, or Splunk's search page, in this app
			// (Dashboard Studio follows only absolute URLs and paths that start with /).
			for _, u := range drilldownURLs(t, definition) {
				view, ok := strings.CutPrefix(strings.SplitN(u, "?", 2)[0], "/app/oktasight/")
				if assert.True(t, ok, "drilldown %s stays in /app/oktasight/", u) && view != "search" {
					assert.FileExists(t, filepath.Join(root, "default/data/ui/views", view+".xml"), "drilldown to %s", u)
				}
			}
			var vizIDs []string
			for id := range d.Visualizations {
				vizIDs = append(vizIDs, id)
			}
			sort.Strings(laid)
			sort.Strings(vizIDs)
			assert.Equal(t, vizIDs, laid, "every visualization laid out once")
			for id, q := range dashboardQueries(t)[filepath.Base(f)] {
				s.checkSearch(q, func(msg string) { t.Errorf("data source %s: %s", id, msg) })
				for _, m := range tokenRef.FindAllStringSubmatch(q, -1) {
					assert.True(t, tokens[m[1]], "data source %s uses token $%s$ that no input sets", id, m[1])
				}
			}
		})
	}
}

func readCSV(t *testing.T, rel string) [][]string {
	f, err := os.Open(filepath.Join(root, rel))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err, rel)
	return rows
}

func TestLookups(t *testing.T) {
	rows := readCSV(t, "lookups/oktasight_event_types.csv")
	require.Equal(t, []string{"eventType", "group", "flow", "step", "step_order", "description"}, rows[0])
	var types []string
	for _, r := range rows[1:] {
		types = append(types, r[0])
		assert.Contains(t, []string{"signin", "app_signin", "sspr", "unlock", "mfa"}, r[2], "%s flow", r[0])
		assert.Contains(t, []string{"1", "2", "3", "4"}, r[4], "%s step_order", r[0])
		assert.NotEmpty(t, r[3])
		assert.NotEmpty(t, r[5])
	}
	assert.Equal(t, sequenceEventTypes, types, "the 23 event types, in the document's order")

	// Where the shared reference is present, it still lists the same 23.
	if doc, err := os.ReadFile(filepath.Join(root, "../shared/docs/okta-sequences.md")); err == nil {
		var inDoc []string
		for _, m := range regexp.MustCompile("(?m)^\\| [^|]+ \\| `([a-z_.A-Z]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
			inDoc = append(inDoc, m[1])
		}
		assert.Equal(t, sequenceEventTypes, inDoc, "shared/docs/okta-sequences.md")
	}

	et := readConf(t, "default/eventtypes.conf", false)
	assert.ElementsMatch(t, sequenceEventTypes, eventTypesIn(et.Stanza("okta_sequence").Values["search"]), "eventtype okta_sequence")

	egress := readCSV(t, "lookups/oktasight_egress_ips.csv")
	assert.Equal(t, [][]string{{"cidr", "label", "description"}}, egress, "shipped empty, header only")
	tr := readConf(t, "default/transforms.conf", false)
	assert.Equal(t, "CIDR(cidr)", tr.Stanza("oktasight_egress_ips").Values["match_type"])
}

func eventTypesIn(search string) []string {
	_, list, ok := strings.Cut(search, "eventType IN (")
	if !ok {
		return nil
	}
	list, _, _ = strings.Cut(list, ")")
	var out []string
	for _, v := range strings.Split(list, ",") {
		out = append(out, strings.Trim(strings.TrimSpace(v), `"`))
	}
	return out
}

func TestCIMMapping(t *testing.T) {
	props := readConf(t, "default/props.conf", false)
	st := props.Stanza("OktaIM2:log")
	require.NotNil(t, st)
	assert.Equal(t, "json", st.Values["KV_MODE"])
	assert.Equal(t, "0", st.Values["TRUNCATE"])
	assert.Equal(t, "false", st.Values["SHOULD_LINEMERGE"])
	assert.Equal(t, "UTC", st.Values["TZ"])
	assert.Contains(t, st.Values["TIME_PREFIX"], "published")

	// The CIM fields Security Content's Okta detections and the data models read.
	provided := map[string]bool{}
	for _, k := range st.Keys {
		switch {
		case strings.HasPrefix(k, "EVAL-"):
			provided[strings.TrimPrefix(k, "EVAL-")] = true
		case strings.HasPrefix(k, "FIELDALIAS-"):
			for _, m := range regexp.MustCompile(`(?i)\bAS\s+(\S+)`).FindAllStringSubmatch(st.Values[k], -1) {
				provided[m[1]] = true
			}
		case strings.HasPrefix(k, "LOOKUP-"):
			_, out, _ := strings.Cut(st.Values[k], " OUTPUT ")
			for _, f := range strings.Fields(out) {
				provided[f] = true
			}
		}
	}
	for _, f := range []string{"action", "app", "src", "src_ip", "user", "user_id", "src_user", "src_user_type", "dest",
		"authentication_method", "reason", "signature", "signature_id", "vendor_product", "user_agent",
		"command", "object", "object_id", "object_category", "object_attrs", "result", "status", "change_type"} {
		assert.True(t, provided[f], "props.conf provides %s", f)
	}

	tags := readConf(t, "default/tags.conf", false)
	assert.Equal(t, "enabled", tags.Stanza("eventtype=okta_authentication").Values["authentication"])
	assert.Equal(t, "enabled", tags.Stanza("eventtype=okta_mfa").Values["multifactor"])
	assert.Equal(t, "enabled", tags.Stanza("eventtype=okta_account_change").Values["change"])
	assert.Equal(t, "enabled", tags.Stanza("eventtype=okta_account_change").Values["account"])
	assert.Equal(t, "enabled", tags.Stanza("eventtype=okta_change").Values["change"])
	// Which event types are changes, and how, is lookups/oktasight_cim.csv: see cim_test.go.
}
