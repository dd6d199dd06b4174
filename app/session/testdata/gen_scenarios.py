#!/usr/bin/env python3
"""Builds the hand-made scenario inputs in scenarios/*.ndjson (oldest first).

Every event has the shape of the realistic Okta events in /work/shared/data/okta-samples
(elastic.ndjson, okta-openapi-examples.ndjson): same members, same null/"null" quirks. The event
types no public sample contains (recovery sends, unlock_token, unlock, deny_access,
factor.activate, email/SMS/voice factor messages) are built from the LogEvent schema the same way.
Run it from this directory; the output is committed, the script documents how it was made.
"""
import json, uuid, datetime

BASE = datetime.datetime(2024, 3, 4, 9, 0, 0, tzinfo=datetime.timezone.utc)
USERS = {
    "alice": ("00ualice000000000001", "alice@example.com", "Alice Example"),
    "bob": ("00ubob00000000000002", "bob@example.com", "Bob Example"),
    "carol": ("00ucarol000000000003", "carol@example.com", "Carol Example"),
    "admin": ("00uadmin000000000009", "helpdesk@example.com", "Help Desk"),
    "dave": ("00udave0000000000004", "dave@example.com", "Dave Example"),
    "erin": ("00uerin0000000000005", "erin@example.com", "Erin Example"),
}
UA = {
    "mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
}
LEGACY = {
    "user.session.start": "core.user_auth.login_success",
    "policy.evaluate_sign_on": None,
    "user.authentication.verify": None,
}
counter = [0]


def uid():
    counter[0] += 1
    return str(uuid.UUID(int=counter[0] * 0x1000100010001))


def ev(t, etype, who, result="SUCCESS", reason=None, ip="198.51.100.7", ua="mac", session="idxSESSION",
       targets=None, factor=None, actor=None, ms=0, txn=None, extra=None, security=None, geo=None):
    """One event. txn sets transaction.id (and requestId), extra adds debugData members,
    security replaces securityContext, geo replaces client.geographicalContext."""
    user = USERS.get(who, ("unknown", who, "unknown"))
    if actor is not None:
        user = USERS[actor]
    when = BASE + datetime.timedelta(seconds=t, milliseconds=ms)
    debug = {"requestId": "Zeq" + str(counter[0]), "requestUri": "/idp/idx/challenge/answer",
             "threatSuspected": "false", "url": "/idp/idx/challenge/answer?"}
    if factor:
        debug["factor"] = factor
    if txn:
        debug["requestId"] = txn
    debug.update(extra or {})
    return {
        "actor": {"alternateId": user[1], "detailEntry": None, "displayName": user[2], "id": user[0], "type": "User"},
        "authenticationContext": {"authenticationProvider": None, "authenticationStep": 0, "credentialProvider": None,
                                  "credentialType": None, "externalSessionId": session, "interface": None, "issuer": None},
        "client": {"device": "Computer", "geographicalContext": geo or {"city": "Dublin", "country": "Ireland",
                   "geolocation": {"lat": 53.3, "lon": -6.2}, "postalCode": None, "state": "Leinster"},
                   "id": None, "ipAddress": ip, "userAgent": {"browser": "CHROME", "os": "Mac OS X", "rawUserAgent": UA.get(ua, ua)},
                   "zone": "null"},
        "debugContext": {"debugData": debug},
        "displayMessage": etype,
        "eventType": etype,
        "legacyEventType": LEGACY.get(etype),
        "outcome": {"reason": reason, "result": result},
        "published": when.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (when.microsecond // 1000),
        "request": {"ipChain": [{"geographicalContext": None, "ip": ip, "source": None, "version": "V4"}]},
        "securityContext": security or {"asNumber": None, "asOrg": None, "domain": None, "isProxy": None, "isp": None},
        "severity": "INFO" if result in ("SUCCESS", "ALLOW") else "WARN",
        "target": targets,
        "transaction": {"detail": {}, "id": txn or "Zeq" + str(counter[0]), "type": "WEB"},
        "uuid": uid(),
        "version": "0",
    }


def user_target(who):
    u = USERS[who]
    return {"alternateId": u[1], "detailEntry": None, "displayName": u[2], "id": u[0], "type": "User"}


def app_target(name):
    return {"alternateId": name, "detailEntry": {"signOnModeType": "SAML_2_0"}, "displayName": name,
            "id": "0oa" + name.replace(" ", "").lower()[:10], "type": "AppInstance"}


def authn_target(name):
    return {"alternateId": "unknown", "detailEntry": {"methodTypeUsed": name}, "displayName": name,
            "id": "aut" + name.replace(" ", "")[:8], "type": "AuthenticatorEnrollment"}


def signin(t, who, mfa=None, outcome="verify", ip="198.51.100.7", session="idxS1"):
    """A sign-in: start, policy, optional MFA events, verify."""
    out = [ev(t, "user.session.start", who, ip=ip, session=session, targets=[authn_target("Password")]),
           ev(t, "policy.evaluate_sign_on", who, result="CHALLENGE" if mfa else "ALLOW",
              reason="Sign-on policy evaluation resulted in " + ("CHALLENGE" if mfa else "ALLOW"), ip=ip, session=session,
              targets=[{"alternateId": "unknown", "detailEntry": {"policyType": "OktaSignOn"}, "displayName": "Default Policy",
                        "id": "00p1", "type": "PolicyEntity"}], ms=40)]
    t2 = t + 5
    for m in mfa or []:
        out.append(m(t2, who, ip, session))
        t2 += 40
    if outcome == "verify":
        out.append(ev(t2, "user.authentication.verify", who, ip=ip, session=session))
    return out


def push(t, who, ip, session, ok=True):
    return [ev(t, "system.push.send_factor_verify_push", who, ip=ip, session=session),
            ev(t + 8, "user.authentication.auth_via_mfa", who, ip=ip, session=session, factor="OKTA_VERIFY_PUSH",
               result="SUCCESS" if ok else "FAILURE", reason=None if ok else "USER_REJECTED_OKTA_VERIFY_PUSH",
               targets=[user_target(who), authn_target("Okta Verify")])]


def otp(kind, factor):
    send = {"sms": "system.sms.send_factor_verify_message", "email": "system.email.send_factor_verify_message",
            "voice": "system.voice.send_mfa_challenge_call"}[kind]

    def make(t, who, ip, session, ok=True):
        return [ev(t, send, who, ip=ip, session=session, targets=[user_target(who)]),
                ev(t + 30, "user.authentication.auth_via_mfa", who, ip=ip, session=session, factor=factor if ok else None,
                   result="SUCCESS" if ok else "FAILURE", reason=None if ok else "INVALID_CREDENTIALS",
                   targets=[user_target(who), authn_target({"sms": "Phone", "email": "Email", "voice": "Phone"}[kind])])]
    return make


def flat(*parts):
    out = []
    for p in parts:
        if isinstance(p, list):
            out.extend(flat(*p))
        else:
            out.append(p)
    return out


def mfa_step(fn, **kw):
    return lambda t, who, ip, session: fn(t, who, ip, session, **kw)


S = {}

# --- signin: every status, every MFA kind -------------------------------------------------------
S["signin_success_push"] = signin(0, "alice", mfa=[push])
S["signin_success_sms"] = signin(0, "alice", mfa=[otp("sms", "SMS")])
S["signin_success_email"] = signin(0, "alice", mfa=[otp("email", "EMAIL")])
S["signin_success_voice"] = signin(0, "alice", mfa=[otp("voice", "CALL")])
S["signin_enrolment"] = signin(0, "bob", mfa=[
    lambda t, who, ip, s: [ev(t, "system.sms.send_phone_verification_message", who, ip=ip, session=s, targets=[user_target(who)]),
                           ev(t + 20, "user.mfa.factor.activate", who, ip=ip, session=s, factor="SMS",
                              targets=[user_target(who), authn_target("Phone")])]])
S["signin_failure"] = [
    ev(0, "user.session.start", "alice", result="FAILURE", reason="INVALID_CREDENTIALS", session="unknown"),
    ev(20, "user.session.start", "alice", result="FAILURE", reason="INVALID_CREDENTIALS", session="unknown"),
] + signin(40, "alice")
S["signin_failure_unknown_user"] = [
    {**ev(0, "user.session.start", "mallory@example.com", result="FAILURE", reason="VERIFICATION_ERROR", session="unknown", ip="203.0.113.66")},
    {**ev(3, "user.session.start", "mallory@example.com", result="FAILURE", reason="VERIFICATION_ERROR", session="unknown", ip="203.0.113.66")},
]
S["signin_mfa_failure"] = signin(0, "alice", mfa=[mfa_step(push, ok=False)], outcome=None)
S["signin_mfa_retry_success"] = signin(0, "alice", mfa=[mfa_step(push, ok=False), push])
S["signin_denied"] = [
    ev(0, "user.session.start", "carol"),
    ev(0, "policy.evaluate_sign_on", "carol", result="DENY", reason="Sign-on policy evaluation resulted in DENY", ms=30),
]
S["signin_incomplete"] = signin(0, "alice", mfa=[lambda t, w, ip, s: [ev(t, "system.sms.send_factor_verify_message", w, ip=ip, session=s)]], outcome=None)
S["signin_restart_closes_previous"] = signin(0, "alice", outcome=None) + signin(60, "alice")

# --- app_signin -----------------------------------------------------------------------------------
S["app_signin"] = flat(
    ev(0, "user.authentication.sso", "alice", targets=[app_target("Salesforce"), {"alternateId": "alice@example.com", "detailEntry": None, "displayName": "Alice", "id": "0uaX", "type": "AppUser"}]),
    otp("voice", "CALL")(100, "bob", "198.51.100.8", "idxB"),
    ev(140, "user.authentication.sso", "bob", ip="198.51.100.8", session="idxB", targets=[app_target("Workday")]),
    ev(200, "application.policy.sign_on.deny_access", "carol", result="DENY", reason="Policy evaluation failed for this request", targets=[app_target("AWS Console")]),
    push(300, "carol", "198.51.100.9", "idxC"),
)

# --- sspr -----------------------------------------------------------------------------------------
def sspr(t, who, channel, steps=("reset", "update"), ip="192.0.2.10", reset_result="SUCCESS"):
    send = {"email": "system.email.password_reset.sent_message", "sms": "system.sms.send_password_reset_message",
            "voice": "system.voice.send_password_reset_call"}[channel]
    out = [ev(t, send, who, ip=ip, session="unknown", targets=[user_target(who)])]
    if "reset" in steps:
        out.append(ev(t + 60, "user.account.reset_password", who, ip=ip, session="unknown", result=reset_result,
                      reason=None if reset_result == "SUCCESS" else "INVALID_CREDENTIALS", targets=[user_target(who)]))
    if "update" in steps:
        out.append(ev(t + 90, "user.account.update_password", who, ip=ip, session="unknown", targets=[user_target(who)]))
    return out


S["sspr"] = flat(
    sspr(0, "alice", "email"),
    sspr(0, "bob", "sms"),
    sspr(0, "carol", "voice", steps=()),
    sspr(2000, "alice", "sms", steps=("reset",), reset_result="FAILURE"),
)
# The recovery send events are logged by Okta itself: the actor is system@okta.com.
for e in S["sspr"]:
    if e["eventType"].startswith("system."):
        e["actor"] = {"alternateId": "system@okta.com", "detailEntry": None, "displayName": "Okta System", "id": "0oa1system", "type": "SystemPrincipal"}

# --- unlock ---------------------------------------------------------------------------------------
def unlock(t, who, channel, token=True, done=True):
    send = {"email": "system.email.account_unlock.sent_message", "sms": "system.sms.send_account_unlock_message",
            "voice": "system.voice.send_account_unlock_call"}[channel]
    out = [ev(t, send, who, ip="192.0.2.20", session="unknown", targets=[user_target(who)])]
    if token:
        out.append(ev(t + 45, "user.account.unlock_token", who, ip="192.0.2.20", session="unknown", targets=[user_target(who)]))
    if done:
        out.append(ev(t + 50, "user.account.unlock", who, ip="192.0.2.20", session="unknown", targets=[user_target(who)]))
    return out


S["unlock"] = flat(
    unlock(0, "alice", "email"),
    unlock(0, "bob", "sms", token=False),  # Identity Engine: no unlock_token, still complete
    unlock(0, "carol", "voice", done=False),
)

# --- interleaved users, admin on behalf, cut data, boundaries ---------------------------------------
S["interleaved"] = sorted(flat(
    signin(0, "alice", mfa=[push], ip="198.51.100.7", session="idxA"),
    signin(3, "bob", mfa=[otp("sms", "SMS")], ip="198.51.100.7", session="idxB"),
    signin(6, "carol", ip="203.0.113.5", session="idxC"),
    ev(70, "user.authentication.sso", "alice", ip="198.51.100.7", session="idxA", targets=[app_target("Slack")]),
    ev(75, "user.session.end", "bob", ip="198.51.100.7", session="idxB"),
), key=lambda e: e["published"])
S["admin_on_behalf"] = [
    ev(0, "user.account.reset_password", "bob", actor="admin", ip="10.1.1.1", session="idxADM", targets=[user_target("bob")]),
    ev(30, "user.mfa.factor.activate", "bob", actor="admin", ip="10.1.1.1", session="idxADM", factor="OKTA_VERIFY_PUSH",
       targets=[user_target("bob")]),
    ev(60, "user.account.update_password", "bob", ip="198.51.100.30", session="unknown", targets=[user_target("bob")]),
]
S["cut_by_time_range"] = flat(
    ev(0, "policy.evaluate_sign_on", "alice", result="ALLOW"),
    ev(5, "user.authentication.auth_via_mfa", "alice", factor="OKTA_VERIFY_PUSH", targets=[user_target("alice")]),
    ev(8, "user.authentication.verify", "alice"),
    ev(0, "user.account.reset_password", "bob", session="unknown", targets=[user_target("bob")]),
    ev(30, "user.account.update_password", "bob", session="unknown", targets=[user_target("bob")]),
    ev(10, "user.account.unlock", "carol", session="unknown", targets=[user_target("carol")]),
)
S["maxpause"] = [
    ev(0, "user.session.start", "alice"),
    ev(0, "policy.evaluate_sign_on", "alice", result="ALLOW", ms=40),
    ev(600, "user.authentication.verify", "alice"),  # exactly maxpause after: still the same flow
    ev(700, "user.session.start", "bob"),
    ev(1301, "user.authentication.verify", "bob"),  # 601 s after: a new, cut flow
]
S["maxspan"] = [
    ev(0, "user.session.start", "alice"),
    ev(1, "policy.evaluate_sign_on", "alice", result="CHALLENGE"),
] + [ev(300 * i, "system.push.send_factor_verify_push", "alice") for i in range(1, 7)] + [
    ev(1801, "user.authentication.verify", "alice"),  # beyond 30m from the start: starts the next sequence
]
S["update_password_outside_reset"] = flat(
    signin(0, "alice"),
    ev(100, "user.account.update_password", "alice", targets=[user_target("alice")]),
)
S["same_millisecond"] = [
    ev(0, "user.authentication.verify", "alice"),
    ev(0, "policy.evaluate_sign_on", "alice", result="ALLOW"),
    ev(0, "user.session.start", "alice"),
    ev(0, "user.session.start", "bob", result="FAILURE", reason="INVALID_CREDENTIALS"),
]

# --- issue 12: app sign-on policies, cut sign-ins, enrolment ---------------------------------------
# The signals as real events carry them (panther-rule-tests.ndjson, elastic.ndjson): behaviors as
# Okta's "{Name=POSITIVE, ...}" string, risk as "{level=...}", dtHash, securityContext.
VERIZON = {"asNumber": 701, "asOrg": "verizon", "domain": "verizon.net", "isProxy": False, "isp": "verizon"}
TOR = {"asNumber": 60729, "asOrg": "zwiebelfreunde", "domain": None, "isProxy": True, "isp": "tor exit"}
SPRINGFIELD = {"city": "Springfield", "country": "United States", "geolocation": {"lat": 20, "lon": -25},
               "postalCode": "12345", "state": "Ohio"}
NEW_DEVICE = {"behaviors": "{New Geo-Location=NEGATIVE, New Device=POSITIVE, New IP=POSITIVE, New State=NEGATIVE, "
                           "New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}",
              "risk": "{level=LOW}", "dtHash": "53dd1a7513e0256eb13b9a47bb07ed61e8ca3d35fbdc36c909567a21a65a2b19"}


def policy_target(kind):
    if kind == "global":
        return [{"alternateId": "unknown", "detailEntry": {"policyType": "OktaSignOn"}, "displayName": "Default Policy",
                 "id": "00p1", "type": "PolicyEntity"},
                {"alternateId": "00p1", "detailEntry": None, "displayName": "Default Rule", "id": "0pr1", "type": "PolicyRule"}]
    # An app's sign-on policy: the app and the user, as in Panther's "Okta Admin Console" event.
    return [app_target(kind), user_target("alice")]


def app_policy(t, who, app, result, ms=0, **kw):
    targets = policy_target(app)
    targets[1] = user_target(who)
    return ev(t, "policy.evaluate_sign_on", who, result=result, ms=ms,
              reason="Sign-on policy evaluation resulted in " + result, targets=targets, **kw)


S["app_policy"] = flat(
    # alice signs in to Okta (start and its policy share a transaction), then opens the Admin
    # Console, whose app policy asks for MFA from her new device, then reaches it.
    ev(0, "user.session.start", "alice", session="idxAP1", txn="TxA1", targets=[authn_target("Password")],
       extra=NEW_DEVICE, security=VERIZON, geo=SPRINGFIELD),
    ev(0, "policy.evaluate_sign_on", "alice", result="ALLOW", reason="Sign-on policy evaluation resulted in ALLOW",
       session="idxAP1", txn="TxA1", targets=policy_target("global"), ms=40, extra=NEW_DEVICE, security=VERIZON, geo=SPRINGFIELD),
    ev(2, "user.authentication.verify", "alice", session="idxAP1", security=VERIZON, geo=SPRINGFIELD),
    app_policy(30, "alice", "Okta Admin Console", "CHALLENGE", session="idxAP1", extra=NEW_DEVICE, security=VERIZON, geo=SPRINGFIELD),
    push(31, "alice", "198.51.100.7", "idxAP1"),
    ev(45, "user.authentication.sso", "alice", session="idxAP1", targets=[app_target("Okta Admin Console")], security=VERIZON, geo=SPRINGFIELD),
    # bob, already signed in, is denied an app from a proxy.
    app_policy(100, "bob", "AWS Console", "DENY", session="idxAP2", ip="203.0.113.9", security=TOR,
               extra={"risk": "{reasons=Anomalous Location, level=HIGH}", "behaviors": "{New IP=POSITIVE, New Country=POSITIVE, Velocity=POSITIVE}"}),
    ev(100, "application.policy.sign_on.deny_access", "bob", result="DENY", reason="Policy evaluation failed for this request",
       session="idxAP2", ip="203.0.113.9", security=TOR, targets=[app_target("AWS Console")], ms=20),
    # carol opens Slack, starts Zoom but leaves it, then opens Jira: three app sign-ins, no sign-in.
    app_policy(200, "carol", "Slack", "ALLOW", session="idxAP3"),
    ev(201, "user.authentication.sso", "carol", session="idxAP3", targets=[app_target("Slack")]),
    app_policy(260, "carol", "Zoom", "ALLOW", session="idxAP3"),
    app_policy(290, "carol", "Jira", "ALLOW", session="idxAP3"),
    ev(291, "user.authentication.sso", "carol", session="idxAP3", targets=[app_target("Jira")]),
)

S["cut_signin"] = flat(
    # The search's range begins at BASE (earliest=1709542800). alice's start and policy lie
    # before it: her push, MFA and verify remain, one sign-in cut at its start.
    push(5, "alice", "198.51.100.7", "idxCUT1"),
    ev(20, "user.authentication.verify", "alice", session="idxCUT1"),
    # bob's start lies before it; his policy evaluation (same transaction) is inside.
    ev(3, "policy.evaluate_sign_on", "bob", result="CHALLENGE", reason="Sign-on policy evaluation resulted in CHALLENGE",
       session="idxCUT2", txn="TxB1", targets=policy_target("global")),
    otp("sms", "SMS")(6, "bob", "198.51.100.8", "idxCUT2"),
    ev(40, "user.authentication.verify", "bob", session="idxCUT2"),
    # dave's sign-in lies whole inside: not cut.
    signin(60, "dave", mfa=[push], session="idxCUT3"),
    # erin's policy evaluation is logged 10 ms before the start of its transaction (Identity
    # Engine): one sign-in, not a policy fragment and a new start.
    ev(120, "policy.evaluate_sign_on", "erin", result="ALLOW", reason="Sign-on policy evaluation resulted in ALLOW",
       session="idxCUT4", txn="TxE1", targets=policy_target("global")),
    ev(120, "user.session.start", "erin", session="idxCUT4", txn="TxE1", targets=[authn_target("Password")], ms=10),
    ev(125, "user.authentication.verify", "erin", session="idxCUT4"),
    # carol's verify comes more than maxspan after the range begins: its start was inside and
    # was not logged, so the sequence is not a fragment of the range.
    ev(2400, "user.authentication.verify", "carol", session="idxCUT5"),
)

S["enrolled_then_used"] = flat(
    # bob enrols Okta Verify while signing in, then signs in again an hour later and uses it.
    signin(0, "bob", mfa=[lambda t, who, ip, s: [
        ev(t, "user.mfa.factor.activate", who, ip=ip, session=s, factor="OKTA_VERIFY_PUSH",
           targets=[user_target(who), authn_target("Okta Verify")])]], session="idxEN1"),
    signin(3600, "bob", mfa=[push], session="idxEN2"),
    # alice's enrolment fails: a failure, no enrolment.
    signin(100, "alice", mfa=[lambda t, who, ip, s: [
        ev(t, "user.mfa.factor.activate", who, ip=ip, session=s, factor="SMS", result="FAILURE",
           reason="INVALID_CREDENTIALS", targets=[user_target(who), authn_target("Phone")])]], outcome=None, session="idxEN3"),
)

for name, events in S.items():
    events = flat(events)
    events.sort(key=lambda e: e["published"])
    with open("scenarios/%s.ndjson" % name, "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
print(len(S), "scenarios")
