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
       targets=None, factor=None, actor=None, ms=0):
    user = USERS.get(who, ("unknown", who, "unknown"))
    if actor is not None:
        user = USERS[actor]
    when = BASE + datetime.timedelta(seconds=t, milliseconds=ms)
    debug = {"requestId": "Zeq" + str(counter[0]), "requestUri": "/idp/idx/challenge/answer",
             "threatSuspected": "false", "url": "/idp/idx/challenge/answer?"}
    if factor:
        debug["factor"] = factor
    return {
        "actor": {"alternateId": user[1], "detailEntry": None, "displayName": user[2], "id": user[0], "type": "User"},
        "authenticationContext": {"authenticationProvider": None, "authenticationStep": 0, "credentialProvider": None,
                                  "credentialType": None, "externalSessionId": session, "interface": None, "issuer": None},
        "client": {"device": "Computer", "geographicalContext": {"city": "Dublin", "country": "Ireland",
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
        "securityContext": {"asNumber": None, "asOrg": None, "domain": None, "isProxy": None, "isp": None},
        "severity": "INFO" if result in ("SUCCESS", "ALLOW") else "WARN",
        "target": targets,
        "transaction": {"detail": {}, "id": "Zeq" + str(counter[0]), "type": "WEB"},
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

for name, events in S.items():
    events = flat(events)
    events.sort(key=lambda e: e["published"])
    with open("scenarios/%s.ndjson" % name, "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
print(len(S), "scenarios")
