package session

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dirty sets every exported field of s to a value no build produces, as a sequence built
// before might have left it.
func dirty(s *Sequence) {
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("stale")
		case reflect.Int, reflect.Int64, reflect.Uint8:
			if f.CanInt() {
				f.SetInt(77)
			} else {
				f.SetUint(77)
			}
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"stale"}))
		default:
			panic(fmt.Sprintf("dirty: field %s of kind %s", v.Type().Field(i).Name, f.Kind()))
		}
	}
}

// TestBuildResets builds random flows with a machine whose Sequence holds stale values in
// every field, and with a fresh one: build must leave nothing of the stale values.
func TestBuildResets(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	events := randomEvents(r, 400)
	reasons := []string{"", "INVALID_CREDENTIALS", "LOCKED_OUT"}
	e := New(DefaultOptions(), nil, nil)
	var items []packed
	for i := range events {
		ev := &events[i]
		ev.Reason, ev.Factor, ev.App = reasons[r.IntN(3)], reasons[r.IntN(3)], reasons[r.IntN(3)]
		if c := classOf(ev.Type); c != nil {
			items = append(items, packed{})
			e.arena.pack(&items[len(items)-1], ev, c)
		}
	}
	for n := range 300 {
		f := &flowRun{kind: Flow(1 + r.IntN(int(numFlows)-1)), success: r.IntN(2) == 0, superseded: r.IntN(3) == 0}
		for range 1 + r.IntN(6) {
			f.items = append(f.items, &items[r.IntN(len(items))])
		}
		f.start, f.last = f.items[0].time, f.items[len(f.items)-1].time
		fresh := New(DefaultOptions(), nil, nil)
		fresh.arena.in = e.arena.in
		fresh.m.key, e.m.key = "k", "k"
		e.m.ids = e.m.ids[:0]
		dirty(&e.m.seq)
		got, want := e.m.build(f).Clone(), fresh.m.build(f).Clone()
		if g, w := fmt.Sprintf("%+v", *got), fmt.Sprintf("%+v", *want); g != w {
			t.Fatalf("flow %d: after a stale sequence\n%s\nwant\n%s", n, g, w)
		}
	}
}

// TestClassRequired pins the required steps each kind of step stands for, which build ORs
// together to find a flow's missing steps.
func TestClassRequired(t *testing.T) {
	tests := []struct {
		typ  string
		flow Flow
		want uint8 // bit i: required[flow][i]
	}{
		{typeSessionStart, FlowSignin, 0b001},
		{typePolicy, FlowSignin, 0b010},
		{typeVerify, FlowSignin, 0b100},
		{typeSSO, FlowAppSignin, 0b1},
		{typeDeny, FlowAppSignin, 0},
		{"system.sms.send_password_reset_message", FlowSSPR, 0b001},
		{typeResetPassword, FlowSSPR, 0b010},
		{typeUpdatePassword, FlowSSPR, 0b100},
		{"system.voice.send_account_unlock_call", FlowUnlock, 0b01},
		{typeUnlockToken, FlowUnlock, 0},
		{typeUnlock, FlowUnlock, 0b10},
		{"system.sms.send_password_reset_message", FlowSignin, 0},
	}
	for _, tt := range tests {
		c := classOf(tt.typ)
		require.NotNil(t, c, tt.typ)
		assert.Equal(t, tt.want, c.required[tt.flow], "%s in %s", tt.typ, tt.flow)
	}
	for _, c := range classes {
		for f := range Flow(numFlows) {
			assert.Equal(t, requiredSeen(f, c.typ, c.role), c.required[f], "%s in %s", c.typ, f)
		}
	}
}

// userOfEvent is the rule packed.user follows, on an Event's strings: the general path that
// user's offsets must agree with.
func userOfEvent(c *class, ev *Event) (id, login string) {
	actorUser, actorNone := ev.ActorType == "User", ev.ActorType == ""
	if actorUser && ev.ActorID != "" {
		if c.onBehalf && ev.TargetID != "" && ev.TargetID != ev.ActorID {
			return ev.TargetID, ev.TargetLogin
		}
		return ev.ActorID, ev.ActorLogin
	}
	if ev.TargetID != "" {
		return ev.TargetID, ev.TargetLogin
	}
	if c.start && ev.ActorLogin != "" && (actorUser || actorNone) {
		return "", ev.ActorLogin
	}
	return "", ""
}

// TestPackedUser compares packed.user with userOfEvent for every combination of the fields
// it reads, with the actor type interned and (interner full) copied with the event.
func TestPackedUser(t *testing.T) {
	for _, full := range []bool{false, true} {
		var a arena
		a.in.full = full
		for typ, c := range classes {
			for _, at := range []string{"", "User", "SystemPrincipal"} {
				for _, aid := range []string{"", "00ua", "00ub"} {
					for _, tid := range []string{"", "00ua", "00ub"} {
						for _, login := range []string{"", "a@x"} {
							ev := Event{Type: typ, ActorType: at, ActorID: aid, ActorLogin: login, TargetID: tid,
								TargetLogin: login + "t", UUID: "u", ActorName: "n", SessionID: "s"}
							var p packed
							a.pack(&p, &ev, c)
							gid, glogin := p.user()
							wid, wlogin := userOfEvent(c, &ev)
							if gid != wid || glogin != wlogin {
								t.Errorf("full=%v %+v: got %q %q, want %q %q", full, ev, gid, glogin, wid, wlogin)
							}
						}
					}
				}
			}
		}
	}
}

// TestStartResets reuses a flowRun whose every field holds a stale value: start must leave it
// as a new one.
func TestStartResets(t *testing.T) {
	if n := reflect.TypeFor[flowRun]().NumField(); n != 10 {
		t.Fatalf("flowRun has %d fields: make start set the new ones, then count them here", n)
	}
	it := &packed{time: 42, cls: classOf(typeVerify)}
	stale := &flowRun{kind: FlowUnlock, items: []*packed{{time: 1}, {time: 2}}, start: 7, last: 8, opened: 9,
		success: true, superseded: true, started: true, app: "stale", own: make([]packed, 0, 4)}
	var m machine
	m.free = append(m.free, stale)
	got := m.start(FlowSSPR, it)
	// own keeps its room (close emptied it), not its copies.
	want := flowRun{kind: FlowSSPR, items: []*packed{it}, start: 42, last: 42, opened: 1, own: []packed{}}
	if got != stale || !reflect.DeepEqual(*got, want) {
		t.Fatalf("start on a stale flowRun: %+v, want %+v", *got, want)
	}
}

// TestPackReused packs events into a packed that held another event: every field must be the
// new event's, the empty event's included.
func TestPackReused(t *testing.T) {
	c := classes[typeSSO]
	full := Event{Time: 5, Ref: 6, UUID: "u", ActorID: "00ua", ActorType: "User", ActorLogin: "a@x", ActorName: "A",
		TargetID: "00ub", TargetLogin: "b@x", App: "app", IP: "10.0.0.1", UserAgent: "ua", SessionID: "s",
		Result: "FAILURE", Reason: "r", Factor: "f"}
	for _, ev := range []Event{{Time: 1}, {Time: 2, IP: "10.0.0.2"}, full} {
		var a arena
		var reused, fresh packed
		a.pack(&reused, &full, c)
		a.pack(&reused, &ev, c)
		a.pack(&fresh, &ev, c)
		if !reflect.DeepEqual(reused, fresh) {
			t.Errorf("%+v packed over another event: %+v, want %+v", ev, reused, fresh)
		}
	}
}
