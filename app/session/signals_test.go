package session

import (
	"slices"
	"strings"
	"testing"
)

// FuzzSignals feeds AppendBehaviors and RiskLevel any string (they read debugData as Okta, a
// log pipeline or an attacker wrote it): they must not panic, RiskLevel must answer a level
// Okta uses or nothing, and AppendBehaviors must give names that read back unchanged (the
// compact record carries them normalized), none empty and none holding the separator.
func FuzzSignals(f *testing.F) {
	for _, s := range []string{
		"{New Geo-Location=NEGATIVE, New Device=POSITIVE, New IP=POSITIVE, Velocity Behavior=NEGATIVE}",
		`{"risk":{"level":"LOW"},"behaviors":{"New IP":"POSITIVE","New Device":"NEGATIVE"}}`,
		`["New Device=POSITIVE","New IP=NEGATIVE"]`, "{reasons=Anomalous Device, level=HIGH}",
		"{previousLevel=LOW, level=MEDIUM}", "New IP,New Device", "=POSITIVE", `"":"POSITIVE"`, "level", "POSITIVEPOSITIVE",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r := RiskLevel(s); !slices.Contains(riskLevels[:], r) {
			t.Fatalf("RiskLevel(%q) = %q", s, r)
		}
		got := string(AppendBehaviors(nil, s))
		if !strings.ContainsAny(s, "=:") {
			return // a list taken as normalized already
		}
		for _, name := range strings.Split(got, ",") {
			if got != "" && (name == "" || strings.ContainsAny(name, "=:")) {
				t.Fatalf("AppendBehaviors(%q) = %q: name %q", s, got, name)
			}
		}
		if again := string(AppendBehaviors(nil, got)); again != got {
			t.Fatalf("AppendBehaviors(%q) = %q, which reads back as %q", s, got, again)
		}
	})
}
