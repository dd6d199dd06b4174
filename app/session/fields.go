package session

import (
	"fmt"
	"strconv"
)

// CompactFields names, in order, the fields Event.Compact writes and FromFields reads back: the
// whole Event as a handful of single-valued string fields, for a map phase that ships no _raw.
var CompactFields = []string{
	"os_time", "os_uuid", "os_type", "os_actor_id", "os_actor_type", "os_actor_login", "os_actor_name",
	"os_target_id", "os_target_login", "os_app", "os_ip", "os_ua", "os_session", "os_result",
	"os_reason", "os_factor",
}

// Compact returns the Event's values in CompactFields order; Time is epoch milliseconds.
func (e *Event) Compact() []string {
	t := ""
	if e.Time != 0 {
		t = strconv.FormatInt(e.Time, 10)
	}
	return []string{t, e.UUID, e.Type, e.ActorID, e.ActorType, e.ActorLogin, e.ActorName,
		e.TargetID, e.TargetLogin, e.App, e.IP, e.UserAgent, e.SessionID, e.Result, e.Reason, e.Factor}
}

// FromFields fills e (except Ref) from one Splunk row, get returning a field's values (nil
// when absent). It reads the compact fields when os_type is present, otherwise Splunk's own
// extracted names (eventType, actor.id, target{}.type, ...). published is preferred to _time.
// Errors wrap ErrNotOkta when there is no eventType.
func FromFields(get func(name string) []string, e *Event) error {
	if v := get("os_type"); len(v) > 0 && v[0] != "" {
		return fromCompact(get, e)
	}
	one := func(name string) string {
		for _, v := range get(name) {
			if !isNone(v) {
				return v
			}
		}
		return ""
	}
	typ := one("eventType")
	if typ == "" {
		return fmt.Errorf("session: fields: %w", ErrNotOkta)
	}
	*e = Event{
		Ref: e.Ref, Type: typ, UUID: one("uuid"),
		ActorID: one("actor.id"), ActorType: one("actor.type"), ActorLogin: one("actor.alternateId"), ActorName: one("actor.displayName"),
		IP: one("client.ipAddress"), UserAgent: one("client.userAgent.rawUserAgent"),
		SessionID: one("authenticationContext.externalSessionId"),
		Result:    one("outcome.result"), Reason: one("outcome.reason"), Factor: one("debugContext.debugData.factor"),
	}
	// Splunk lists target{}.* as parallel multivalues, which line up only when every target
	// has the member; misaligned lists are read only where the guess below is safe.
	types, ids, logins, names := get("target{}.type"), get("target{}.id"), get("target{}.alternateId"), get("target{}.displayName")
	users := 0
	for _, t := range types {
		if t == "User" {
			users++
		}
	}
	at := func(vals []string, i int) string {
		switch {
		case len(vals) == len(types):
			return clean(vals[i])
		case len(vals) == 1 && users == 1 && types[i] == "User":
			// One value for one User target among targets that lack the member: most likely
			// the User's, as Okta omits ids of apps and policies more often than of users.
			return clean(vals[0])
		}
		return ""
	}
	for i, t := range types {
		switch {
		case t == "User" && e.TargetID == "" && at(ids, i) != "":
			e.TargetID, e.TargetLogin = at(ids, i), at(logins, i)
		case t == "AppInstance" && e.App == "":
			e.App = at(names, i)
		case isAuthenticator(t) && e.Factor == "":
			e.Factor = at(names, i)
		}
	}
	if p := one("published"); p != "" {
		if t, err := parsePublished(p); err == nil {
			e.Time = t
		}
	}
	if e.Time == 0 {
		if p := one("_time"); p != "" {
			t, err := parseEpoch(p)
			if err != nil {
				return fmt.Errorf("session: fields: %w", err)
			}
			e.Time = t
		}
	}
	return nil
}

// fromCompact reads the fields Event.Compact wrote.
func fromCompact(get func(name string) []string, e *Event) error {
	var v [16]string
	for i, name := range CompactFields {
		if vals := get(name); len(vals) > 0 {
			v[i] = clean(vals[0])
		}
	}
	*e = Event{Ref: e.Ref, UUID: v[1], Type: v[2], ActorID: v[3], ActorType: v[4], ActorLogin: v[5], ActorName: v[6],
		TargetID: v[7], TargetLogin: v[8], App: v[9], IP: v[10], UserAgent: v[11], SessionID: v[12],
		Result: v[13], Reason: v[14], Factor: v[15]}
	if v[0] != "" {
		t, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil {
			return fmt.Errorf("session: fields: os_time %q: %w", truncate(v[0]), errTimestamp)
		}
		e.Time = t
	}
	return nil
}
