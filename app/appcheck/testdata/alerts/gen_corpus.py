#!/usr/bin/env python3
"""Builds the labelled alert corpus: corpus.ndjson (one day of an Okta org's System Log, oldest
first) and labels.json (which events are an attack, which a benign look-alike, and for which
alert).

The events have the members, quirks and value shapes of the real events in
/work/shared/data/okta-samples (elastic.ndjson, panther-rule-tests.ndjson, the OpenAPI
examples): string "0" version, "null" zone, debugData values as strings (behaviors as
"{New IP=POSITIVE, ...}", risk as "{level=LOW}"), externalSessionId "unknown" on failed
sign-ins, transaction.id = debugData.requestId shared by a sign-in's start and its policy
evaluation, the Okta Verify response logged from the phone (its carrier IP and the Okta Verify
user agent), app sign-on policy evaluations with an AppInstance target. Event types no public
sample has (recovery sends, factor activation) follow Okta's LogEvent schema, as
app/session/testdata/gen_scenarios.py builds them.

The day (2024-03-06, a Wednesday, UTC): 48 employees of acme.example signing in from the
office (NAT 198.51.100.10, Chicago, AT&T), from home (Comcast) and on the corporate VPN
(198.51.100.249, in testdata/alerts/oktasight_egress_ips.csv), their phones answering Okta Verify pushes
over T-Mobile (CGNAT 100.64.0.0/10) or Verizon (IPv6), remembered devices let through by the
sign-on policy, app sign-on policies that step up to MFA, the help desk resetting and unlocking
accounts, sessions ending; and, mixed in, every attack and look-alike in labels.json.

Run it from this directory; the output is committed, the script documents how it was made.
The random generator is seeded: the same script gives the same bytes.
"""
import base64
import datetime
import hashlib
import json
import random

R = random.Random(20240306)
DAY = datetime.datetime(2024, 3, 6, 0, 0, 0, tzinfo=datetime.timezone.utc)
ORG = "acme.example"

# --- places -------------------------------------------------------------------------------------
GEO = {
    "chicago": {"city": "Chicago", "country": "United States", "geolocation": {"lat": 41.8835, "lon": -87.6305},
                "postalCode": "60602", "state": "Illinois"},
    "evanston": {"city": "Evanston", "country": "United States", "geolocation": {"lat": 42.0451, "lon": -87.6877},
                 "postalCode": "60201", "state": "Illinois"},
    "oakpark": {"city": "Oak Park", "country": "United States", "geolocation": {"lat": 41.885, "lon": -87.7845},
                "postalCode": "60302", "state": "Illinois"},
    "amsterdam": {"city": "Amsterdam", "country": "Netherlands", "geolocation": {"lat": 52.3759, "lon": 4.8975},
                  "postalCode": "1012", "state": "North Holland"},
    "bucharest": {"city": "Bucharest", "country": "Romania", "geolocation": {"lat": 44.4354, "lon": 26.1033},
                  "postalCode": None, "state": "Bucuresti"},
    "ashburn": {"city": "Ashburn", "country": "United States", "geolocation": {"lat": 39.0437, "lon": -77.4875},
                "postalCode": "20147", "state": "Virginia"},
    "lagos": {"city": "Lagos", "country": "Nigeria", "geolocation": {"lat": 6.4541, "lon": 3.3947},
              "postalCode": None, "state": "Lagos"},
}
NET = {  # securityContext of each kind of network
    "office": {"asNumber": 7018, "asOrg": "at&t corp.", "domain": "att.net", "isProxy": False, "isp": "at&t services inc"},
    "vpn": {"asNumber": 7018, "asOrg": "at&t corp.", "domain": "att.net", "isProxy": False, "isp": "at&t services inc"},
    "comcast": {"asNumber": 7922, "asOrg": "comcast", "domain": "comcast.net", "isProxy": False, "isp": "comcast"},
    "tmobile": {"asNumber": 21928, "asOrg": "t-mobile usa, inc.", "domain": "tmodns.net", "isProxy": False, "isp": "t-mobile usa"},
    "verizon": {"asNumber": 6167, "asOrg": "verizon wireless", "domain": "myvzw.com", "isProxy": False, "isp": "verizon wireless"},
    "m247": {"asNumber": 9009, "asOrg": "m247 europe srl", "domain": "m247.com", "isProxy": True, "isp": "m247 europe srl"},
    "hosting": {"asNumber": 14061, "asOrg": "digitalocean, llc", "domain": "digitalocean.com", "isProxy": False, "isp": "digitalocean"},
    "mtn": {"asNumber": 29465, "asOrg": "mtn nigeria", "domain": "mtnnigeria.net", "isProxy": False, "isp": "mtn nigeria"},
}
OFFICE_IP = "198.51.100.10"
VPN_IP = "198.51.100.249"

UA = {
    "mac_chrome": ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", "CHROME", "Mac OS X", "Computer"),
    "win_edge": ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66", "EDGE", "Windows 10", "Computer"),
    "win_chrome": ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", "CHROME", "Windows 10", "Computer"),
    "mac_safari": ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15", "SAFARI", "Mac OS X", "Computer"),
    "win_firefox": ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0", "FIREFOX", "Windows 10", "Computer"),
    "linux_firefox": ("Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", "FIREFOX", "Linux", "Computer"),
    "iphone_safari": ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1", "SAFARI", "Mac OS X (iPhone)", "Mobile"),
    "python": ("python-requests/2.31.0", "UNKNOWN", "Unknown", "Unknown"),
}
OV_UA = {  # Okta Verify on the phone, as in elastic.ndjson
    "ios": ("B7F62B65BN.com.okta.mobile/9.12.0 OktaVerify/9.12.0 iOS/17.3.1 Apple/iPhone15,2 %s", "UNKNOWN", "Unknown mobile", "Mobile"),
    "android": ("com.okta.android.auth/8.4.1 OktaVerify/8.4.1 Android/14 Google/Pixel 8 %s", "UNKNOWN", "Android", "Mobile"),
}

# --- people ---------------------------------------------------------------------------------------
FIRST = ["alice", "bruno", "chen", "dmitri", "elena", "farah", "gus", "hiro", "ines", "jonas", "kofi", "lena",
         "marco", "noor", "oscar", "priya", "quentin", "rosa", "sven", "tariq", "ulla", "vik", "wen", "ximena",
         "yusuf", "zoe", "arjun", "bea", "carlos", "dana", "emil", "fatima", "gabe", "hana", "ivo", "jade",
         "kai", "lucia", "mateo", "nadia", "omar", "pia", "raj", "sofia", "theo", "uma", "valentin", "wanda"]
USERS = {}


def person(login, name=None, ua="mac_chrome", home="comcast", phone="ios", carrier="tmobile"):
    n = len(USERS) + 1
    uid = "00u%s%04d" % (hashlib.sha1(login.encode()).hexdigest()[:13], n)
    home_ip = "192.0.2.%d" % (10 + n)
    phone_ip = ("100.64.%d.%d" % (n, 20 + n)) if carrier == "tmobile" else ("2001:db8:4a1:%x::%x" % (n, 17 * n))
    USERS[login] = {"id": uid, "login": "%s@%s" % (login, ORG), "name": (name or login.title()) + " Example", "ua": ua,
                    "home_ip": home_ip, "home_net": home, "phone": phone, "phone_ip": phone_ip, "carrier": carrier,
                    "ov_id": hashlib.md5(login.encode()).hexdigest()[:8].upper() + "-11EE-4A7B-9C1D-0242AC120002"}
    return USERS[login]


for i, f in enumerate(FIRST):
    person(f, ua=["mac_chrome", "win_edge", "win_chrome", "mac_safari"][i % 4], phone=["ios", "android"][i % 3 == 0],
           carrier=["tmobile", "verizon"][i % 5 == 0])
# The people the scenarios are about (their own accounts, so each alert row names its scenario).
for v in ["victim.fatigue", "victim.relogin", "user.threepush", "victim.pushrelay", "user.cellular",
          "victim.nomfa", "victim.enrolbypass", "user.remembered", "victim.bruteforce", "victim.slowbrute",
          "user.typos", "victim.hijack", "user.roaming", "victim.sspr", "victim.helpdesk", "user.sspr",
          "victim.resetspam", "user.forgot", "user.vpn1"]:
    person(v, ua="mac_chrome" if hashlib.md5(v.encode()).digest()[0] % 2 else "win_edge")
ADMIN = person("helpdesk.agent", "Help Desk", ua="win_edge")
SYSTEM = {"alternateId": "system@okta.com", "detailEntry": None, "displayName": "Okta System", "id": "0oa1okta0system00", "type": "SystemPrincipal"}

APPS = {  # name -> (signOnMode, app sign-on policy asks for MFA)
    "Slack": ("SAML_2_0", False), "Salesforce": ("SAML_2_0", False), "Google Workspace": ("SAML_2_0", False),
    "Zoom": ("SAML_2_0", False), "Workday": ("SAML_2_0", True), "AWS IAM Identity Center": ("SAML_2_0", True),
    "GitHub Enterprise": ("OPENID_CONNECT", False), "Okta Admin Console": ("OPENID_CONNECT", True),
}

# --- events ---------------------------------------------------------------------------------------
counter = [0]
EVENTS = []


def rid():
    counter[0] += 1
    h = hashlib.sha256(b"acme%d" % counter[0]).digest()
    return base64.urlsafe_b64encode(h)[:27].decode().replace("-", "A").replace("_", "B")


def uuid():
    counter[0] += 1
    h = hashlib.md5(b"uuid%d" % counter[0]).hexdigest()
    return "%s-%s-11ee-%s-%s" % (h[:8], h[8:12], h[16:20], h[20:32])


def behaviors(new_ip=False, new_device=False, new_geo=False, velocity=False):
    p = lambda b: "POSITIVE" if b else "NEGATIVE"
    return "{New Geo-Location=%s, New Device=%s, New IP=%s, New State=%s, New Country=%s, Velocity=%s, New City=%s}" % (
        p(new_geo), p(new_device), p(new_ip), p(new_geo), p(new_geo), p(velocity), p(new_geo))


class Client:
    """Where a request came from: IP, network, place and user agent."""

    def __init__(self, ip, net, geo, ua, zone="null", ov=None):
        self.ip, self.net, self.geo, self.zone = ip, net, geo, zone
        if ov:
            raw, browser, os_, device = OV_UA[ov[0]]
            raw = raw % ov[1]
        else:
            raw, browser, os_, device = UA[ua]
        self.raw, self.browser, self.os, self.device = raw, browser, os_, device


def laptop(u, where="office"):
    if where == "office":
        return Client(OFFICE_IP, "office", "chicago", u["ua"], zone="Corporate Offices")
    if where == "vpn":
        return Client(VPN_IP, "vpn", "chicago", u["ua"], zone="Corporate VPN")
    return Client(u["home_ip"], u["home_net"], "oakpark" if hashlib.md5(u["login"].encode()).digest()[0] % 2 else "evanston", u["ua"])


def phone(u):
    return Client(u["phone_ip"], u["carrier"], "chicago", None, ov=(u["phone"], u["ov_id"]))


def dt_hash(u, client):
    return hashlib.sha256(("%s|%s" % (u["login"], client.raw)).encode()).hexdigest()


def user_ref(u):
    return {"alternateId": u["login"], "detailEntry": None, "displayName": u["name"], "id": u["id"], "type": "User"}


def authn_target(name, method=None):
    return {"alternateId": "unknown", "detailEntry": {"methodTypeUsed": method or name}, "displayName": name,
            "id": "aut" + hashlib.md5(name.encode()).hexdigest()[:17], "type": "AuthenticatorEnrollment"}


def app_target(name):
    mode, _ = APPS[name]
    return {"alternateId": name, "detailEntry": {"signOnModeType": mode}, "displayName": name,
            "id": "0oa" + hashlib.md5(name.encode()).hexdigest()[:17], "type": "AppInstance"}


def ev(t, etype, actor, client, result="SUCCESS", reason=None, session="unknown", targets=None, debug=None,
       legacy=None, txn=None, display=None):
    """One LogEvent at DAY + t seconds (t may carry milliseconds)."""
    when = DAY + datetime.timedelta(seconds=t)
    req = txn or rid()
    dd = {"requestId": req, "requestUri": "/idp/idx/challenge/answer", "threatSuspected": "false",
          "url": "/idp/idx/challenge/answer?"}
    dd.update(debug or {})
    sc = dict(NET[client.net]) if client.net else {"asNumber": None, "asOrg": None, "domain": None, "isProxy": None, "isp": None}
    e = {
        "actor": actor if "type" in actor else user_ref(actor),
        "authenticationContext": {"authenticationProvider": None, "authenticationStep": 0, "credentialProvider": None,
                                  "credentialType": None, "externalSessionId": session, "interface": None, "issuer": None},
        "client": {"device": client.device, "geographicalContext": dict(GEO[client.geo]), "id": None, "ipAddress": client.ip,
                   "userAgent": {"browser": client.browser, "os": client.os, "rawUserAgent": client.raw}, "zone": client.zone},
        "debugContext": {"debugData": dd},
        "device": None,
        "displayMessage": display or etype,
        "eventType": etype,
        "legacyEventType": legacy,
        "outcome": {"reason": reason, "result": result},
        "published": when.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (when.microsecond // 1000),
        "request": {"ipChain": [{"geographicalContext": dict(GEO[client.geo]), "ip": client.ip, "source": None, "version": "V6" if ":" in client.ip else "V4"}]},
        "securityContext": sc,
        "severity": "INFO" if result in ("SUCCESS", "ALLOW", "CHALLENGE") else "WARN",
        "target": targets,
        "transaction": {"detail": {}, "id": req, "type": "WEB"},
        "uuid": uuid(),
        "version": "0",
    }
    EVENTS.append(e)
    return e


def new_session():
    counter[0] += 1
    return "102" + hashlib.sha1(b"sid%d" % counter[0]).hexdigest()[:22]


# --- building blocks ------------------------------------------------------------------------------
def global_policy(result):
    return [{"alternateId": "unknown", "detailEntry": {"policyType": "OktaSignOn"}, "displayName": "Global Session Policy",
             "id": "00p1gsp0acme00000001", "type": "PolicyEntity"},
            {"alternateId": "00p1gsp0acme00000001", "detailEntry": None,
             "displayName": "Remembered devices" if result == "ALLOW" else "Require MFA off the corporate network",
             "id": "0pr1gsp0acme0000000" + ("1" if result == "ALLOW" else "2"), "type": "PolicyRule"}]


def app_policy(app):
    return [app_target(app),
            {"alternateId": "unknown", "detailEntry": {"policyType": "ACCESS_POLICY"}, "displayName": app + " authentication policy",
             "id": "00p1app" + hashlib.md5(app.encode()).hexdigest()[:13], "type": "PolicyEntity"},
            {"alternateId": "unknown", "detailEntry": None, "displayName": "Step up for sensitive apps",
             "id": "0pr1app" + hashlib.md5(app.encode()).hexdigest()[:13], "type": "PolicyRule"}]


def sec(u, client, new_ip=False, new_device=False, new_geo=False, risk="LOW", dt=True):
    d = {"behaviors": behaviors(new_ip, new_device, new_geo), "risk": "{level=%s}" % risk,
         "deviceFingerprint": hashlib.md5((u["login"] + client.raw).encode()).hexdigest()}
    if risk != "LOW":
        d["risk"] = "{reasons=Anomalous Device, Anomalous Location, level=%s}" % risk
    if dt:
        d["dtHash"] = dt_hash(u, client)
    return d


def push_challenge(t, u, browser, session, answer, ph=None, reject_reason="User rejected Okta push verify"):
    """An Okta Verify push: sent for the browser's sign-in, answered (or not) from the phone.
    answer: "accept", "reject" or None (never answered). Returns the time after it."""
    ph = ph or phone(u)
    ev(t, "system.push.send_factor_verify_push", u, browser, session=session, targets=[user_ref(u)],
       debug={"requestUri": "/idp/idx/authenticators/poll", "factor": "OKTA_VERIFY_PUSH"})
    if answer is None:
        return t + 60
    ok = answer == "accept"
    ev(t + R.uniform(4, 15), "user.authentication.auth_via_mfa", u, ph, session=session,
       result="SUCCESS" if ok else "FAILURE", reason=None if ok else reject_reason,
       targets=[user_ref(u), authn_target("Okta Verify", "Get a push notification")],
       debug={"factor": "OKTA_VERIFY_PUSH", "requestUri": "/idp/authenticators/autuov/transactions/ftx/verify",
              "pushOnlyResponseType": "OV_RESPONSE_ACCEPT" if ok else "OV_RESPONSE_DENY",
              "behaviors": behaviors(), "risk": "{level=LOW}"},
       legacy="core.user.factor.attempt_success" if ok else "core.user.factor.attempt_fail")
    return t + 20


def sign_in(t, u, browser, policy="ALLOW", pushes=("accept",), new_ip=False, new_device=False, new_geo=False,
            risk="LOW", session=None, verify=True, ph=None, enrol=None, push_gap=40):
    """Okta sign-in: start -> global session policy -> MFA* -> verify. Returns (session, end time)."""
    session = session or new_session()
    txn = rid()
    s = sec(u, browser, new_ip, new_device, new_geo, risk)
    ev(t, "user.session.start", u, browser, session=session, txn=txn, legacy="core.user_auth.login_success",
       targets=[authn_target("Password")], debug=dict(s, requestUri="/idp/idx/identify", url="/idp/idx/identify?"),
       display="User login to Okta")
    ev(t + 0.041, "policy.evaluate_sign_on", u, browser, result=policy, session=session, txn=txn,
       reason="Sign-on policy evaluation resulted in " + policy, targets=global_policy(policy),
       debug=dict(s, requestUri="/idp/idx/identify", url="/idp/idx/identify?"), display="Evaluation of sign-on policy")
    t2 = t + R.uniform(2, 6)
    if policy == "CHALLENGE":
        if enrol:
            ev(t2, "system.sms.send_phone_verification_message", u, browser, session=session, targets=[user_ref(u)],
               debug={"requestUri": "/idp/idx/challenge", "phoneNumber": enrol})
            t2 += R.uniform(25, 50)
            ev(t2, "user.mfa.factor.activate", u, browser, session=session,
               targets=[user_ref(u), authn_target("Phone", "SMS")], debug={"factor": "SMS", "requestUri": "/idp/idx/challenge/answer"},
               display="Activate factor or authenticator")
            t2 += 3
        else:
            for a in pushes:
                t2 = push_challenge(t2, u, browser, session, a, ph=ph)
                t2 += push_gap - 20 if a is None else R.uniform(1, 4)
    if verify:
        ev(t2, "user.authentication.verify", u, browser, session=session, debug=dict(s, requestUri="/idp/idx/challenge/answer"),
           display="Verify user identity")
    return session, t2


def app_sign_in(t, u, browser, app, session, mfa=False, ph=None, dt_of=None):
    """An app sign-in inside an Okta session: the app's sign-on policy, step-up MFA, sso."""
    d = sec(u, dt_of or browser)
    ev(t, "policy.evaluate_sign_on", u, browser, result="CHALLENGE" if mfa else "ALLOW", session=session,
       reason="Sign-on policy evaluation resulted in " + ("CHALLENGE" if mfa else "ALLOW"), targets=app_policy(app),
       debug=dict(d, requestUri="/app/%s/sso/saml" % app.lower().replace(" ", ""), url="/app/sso?"), display="Evaluation of sign-on policy")
    t2 = t + 1.2
    if mfa:
        t2 = push_challenge(t2 + 1, u, browser, session, "accept", ph=ph) + 1
    ev(t2, "user.authentication.sso", u, browser, session=session,
       targets=[app_target(app), {"alternateId": u["login"], "detailEntry": None, "displayName": u["name"], "id": "0ua" + u["id"][3:], "type": "AppUser"}],
       debug={"requestUri": "/app/%s/sso/saml" % app.lower().replace(" ", ""), "dtHash": d["dtHash"]},
       display="User single sign on to app")
    return t2


def failed_sign_in(t, login_or_user, client, reason="INVALID_CREDENTIALS"):
    if isinstance(login_or_user, dict):
        actor = user_ref(login_or_user)
    else:
        actor = {"alternateId": login_or_user, "detailEntry": None, "displayName": "unknown", "id": "unknown", "type": "User"}
        reason = "VERIFICATION_ERROR"
    ev(t, "user.session.start", actor, client, result="FAILURE", reason=reason, session="unknown",
       legacy="core.user_auth.login_failed", debug={"requestUri": "/idp/idx/identify", "url": "/idp/idx/identify?", "loginResult": reason,
                                                    "behaviors": behaviors(), "risk": "{level=LOW}"},
       display="User login to Okta")


def sspr_flow(t, u, client, channel="email", complete=True):
    send = {"email": "system.email.password_reset.sent_message", "sms": "system.sms.send_password_reset_message",
            "voice": "system.voice.send_password_reset_call"}[channel]
    ev(t, send, SYSTEM, client, targets=[user_ref(u)], display="Password reset message sent",
       debug={"requestUri": "/idp/idx/recover"})
    if not complete:
        return t
    t2 = t + R.uniform(40, 120)
    ev(t2, "user.account.reset_password", u, client, targets=[user_ref(u)], display="Fired when the user's Okta password is reset",
       debug={"requestUri": "/idp/idx/challenge/answer"})
    t2 += R.uniform(20, 60)
    ev(t2, "user.account.update_password", u, client, targets=[user_ref(u)], display="User update password for Okta",
       debug={"requestUri": "/idp/idx/challenge/answer"})
    return t2


def session_end(t, u, client, session):
    ev(t, "user.session.end", u, client, session=session, display="User logout from Okta", debug={"requestUri": "/login/signout"})


# --- the background day -------------------------------------------------------------------------
def background_user(u, rng):
    """A working day: morning sign-in, app sign-ins, maybe a second sign-in after lunch, logout."""
    where = rng.choices(["office", "home", "vpn"], [6, 3, 1])[0]
    t = 3600 * 7 + rng.uniform(0, 3.5 * 3600)
    browser = laptop(u, where)
    # Remembered devices on the corporate network are let through; at home and on the VPN the
    # global session policy asks for a push (answered by the phone over its carrier network).
    policy = "ALLOW" if where == "office" and rng.random() < 0.75 else "CHALLENGE"
    if rng.random() < 0.12:  # a typo first
        failed_sign_in(t - rng.uniform(8, 25), u, browser)
    pushes = ("accept",) if rng.random() < 0.9 else (None, "accept")
    session, t = sign_in(t, u, browser, policy=policy, pushes=pushes)
    apps = rng.sample(sorted(APPS), rng.randint(2, 5))
    for app in apps:
        t += rng.uniform(300, 3600)
        if app == "Okta Admin Console" and rng.random() < 0.8:
            continue
        t = app_sign_in(t, u, browser, app, session, mfa=APPS[app][1])
    if rng.random() < 0.5:  # after lunch, a new session (the first one idled out)
        t = max(t, 3600 * 12.5) + rng.uniform(0, 5400)
        where2 = "office" if where == "office" else where
        browser = laptop(u, where2)
        session, t = sign_in(t, u, browser, policy="ALLOW" if where2 == "office" else "CHALLENGE")
        for app in rng.sample(sorted(APPS), 2):
            t += rng.uniform(120, 2400)
            t = app_sign_in(t, u, browser, app, session, mfa=APPS[app][1])
    if rng.random() < 0.4:
        session_end(t + rng.uniform(600, 3600), u, browser, session)


bg = random.Random(7)
for f in FIRST:
    background_user(USERS[f], bg)
# The help desk's own day: an unlock and a password reset that the user finishes from their laptop.
sign_in(3600 * 7.9, ADMIN, laptop(ADMIN), policy="CHALLENGE")
ev(3600 * 10.2, "user.account.unlock_by_admin", ADMIN, laptop(ADMIN), targets=[user_ref(USERS["kofi"])],
   display="Unlock user account by admin", debug={"requestUri": "/api/v1/users/x/lifecycle/unlock"})
# Okta logs that help-desk unlock as user.account.unlock too.
ev(3600 * 10.2 + 0.2, "user.account.unlock", ADMIN, laptop(ADMIN), targets=[user_ref(USERS["kofi"])],
   display="Unlock user account", debug={"requestUri": "/api/v1/users/x/lifecycle/unlock"})

LABELS = []


def scenario(name, alert, role, entity, note, also=()):
    """Labels the events fn logs: role "attack" (the alert must report the entity: a field of the
    alert's rows and its value) or "lookalike" (no row of the alert may name it). also lists
    other alerts an attack rightly sets off too (a fatigue attack whose last push is approved
    from the victim's phone is also a push answered from elsewhere)."""
    def wrap(fn):
        before = len(EVENTS)
        fn()
        uu = [e["uuid"] for e in EVENTS[before:]]
        LABELS.append({"scenario": name, "alert": alert, "also": list(also), "role": role, "entity": entity, "note": note,
                       "uuids": uu})
        return fn
    return wrap


def u(x):
    return USERS[x]


ATTACKER = {
    "nl": lambda ua="win_firefox", ip="203.0.113.50": Client(ip, "m247", "amsterdam", ua),
    "ro": lambda ua="win_chrome", ip="203.0.113.77": Client(ip, "m247", "bucharest", ua),
    "do": lambda ua="python", ip="203.0.113.200": Client(ip, "hosting", "ashburn", ua),
    "ng": lambda ua="linux_firefox", ip="203.0.113.120": Client(ip, "mtn", "lagos", ua),
}


# --- MFA fatigue ----------------------------------------------------------------------------------
@scenario("fatigue_one_signin", "MFA fatigue", "attack", {"user": u("victim.fatigue")["login"]},
          "password known: one sign-in from Amsterdam, 7 pushes in 6 minutes, two rejected, the 7th accepted",
          also=["Push answered from elsewhere"])
def _():
    sign_in(3600 * 9 + 1210, u("victim.fatigue"), ATTACKER["nl"](), policy="CHALLENGE", new_ip=True, new_device=True,
            new_geo=True, risk="HIGH", pushes=(None, "reject", None, None, "reject", None, "accept"), push_gap=50)


@scenario("fatigue_relogin", "MFA fatigue", "attack", {"user": u("victim.relogin")["login"]},
          "the attacker starts a new sign-in for every push: 6 sign-ins in 13 minutes across a 15-minute boundary, the last push accepted",
          also=["Push answered from elsewhere"])
def _():
    t = 3600 * 13 + 41 * 60 + 7
    for i in range(6):
        sign_in(t, u("victim.relogin"), ATTACKER["ro"](), policy="CHALLENGE", new_ip=True, new_device=True, new_geo=True,
                risk="HIGH", pushes=("accept",) if i == 5 else (None,), verify=i == 5)
        t += R.uniform(120, 160)


@scenario("fatigue_three_pushes", "MFA fatigue", "lookalike", {"user": u("user.threepush")["login"]},
          "misses two pushes (phone in a bag) and accepts the third, from home")
def _():
    x = u("user.threepush")
    sign_in(3600 * 8 + 600, x, laptop(x, "home"), policy="CHALLENGE", pushes=(None, None, "accept"), push_gap=45)


# --- push answered from elsewhere -----------------------------------------------------------------
@scenario("push_relay", "Push answered from elsewhere", "attack", {"user": u("victim.pushrelay")["login"]},
          "sign-in from a Bucharest proxy on a new device; the push is approved from the victim's phone in Chicago")
def _():
    sign_in(3600 * 15 + 900 - 20, u("victim.pushrelay"), ATTACKER["ro"](ip="203.0.113.78"), policy="CHALLENGE", new_ip=True,
            new_device=True, new_geo=True, risk="HIGH", pushes=("accept",))


@scenario("push_cellular", "Push answered from elsewhere", "lookalike", {"user": u("user.cellular")["login"]},
          "laptop on office Wi-Fi (challenged: remembered-device cookie cleared), the phone answers over T-Mobile")
def _():
    x = u("user.cellular")
    sign_in(3600 * 9 + 300, x, laptop(x, "office"), policy="CHALLENGE", pushes=("accept",))


# --- sign-in without MFA --------------------------------------------------------------------------
@scenario("nomfa_new_device", "Sign-in without MFA", "attack", {"user": u("victim.nomfa")["login"]},
          "the policy lets a password-only sign-in through (ALLOW) from a new IP and a new device")
def _():
    sign_in(3600 * 11 + 1500, u("victim.nomfa"), ATTACKER["ng"](ip="203.0.113.121"), policy="ALLOW", new_ip=True,
            new_device=True, new_geo=True, risk="MEDIUM")


@scenario("nomfa_enrol_instead", "Sign-in without MFA", "attack", {"user": u("victim.enrolbypass")["login"]},
          "challenged, the sign-in completes by enrolling a new phone factor, never verifying an existing one")
def _():
    sign_in(3600 * 16 + 420, u("victim.enrolbypass"), ATTACKER["nl"](ip="203.0.113.51"), policy="CHALLENGE", new_ip=True,
            new_device=True, new_geo=True, risk="HIGH", enrol="+31 6 ••••• 8123")


@scenario("nomfa_remembered", "Sign-in without MFA", "lookalike", {"user": u("user.remembered")["login"]},
          "a remembered device in the office: the policy answers ALLOW, no challenge, nothing new")
def _():
    x = u("user.remembered")
    sign_in(3600 * 8 + 2000, x, laptop(x, "office"), policy="ALLOW")


# --- password spray -------------------------------------------------------------------------------
@scenario("spray_fast", "Password spray", "attack", {"src": "203.0.113.200"},
          "one hosting IP fails 14 accounts in 18 minutes (4 of them logins that do not exist), no success")
def _():
    t = 3600 * 2 + 1500
    targets = [u(x) for x in ["alice", "bruno", "chen", "elena", "gus", "ines", "lena", "marco", "oscar", "rosa"]] + [
        "finance@" + ORG, "admin@" + ORG, "it@" + ORG, "ceo@" + ORG]
    for x in targets:
        failed_sign_in(t, x, ATTACKER["do"]())
        t += R.uniform(40, 110)


@scenario("spray_low_and_slow", "Password spray (low and slow)", "attack", {"src": "203.0.113.201"},
          "one IP fails 3 accounts an hour for 7 hours (21 accounts), never 10 in an hour")
def _():
    pool = [u(x) for x in FIRST[10:31]]
    t = 3600 * 1 + 700
    for h in range(7):
        for k in range(3):
            failed_sign_in(t + 3600 * h + k * R.uniform(500, 900), pool[3 * h + k], ATTACKER["do"](ua="win_chrome", ip="203.0.113.201"))


@scenario("spray_office_typos", "Password spray", "lookalike", {"src": OFFICE_IP},
          "office NAT at 09:00: 13 people mistype once and sign in from the same IP within a minute")
def _():
    t = 3600 * 9 + 30
    for x in FIRST[31:44]:
        y = u(x)
        failed_sign_in(t, y, laptop(y, "office"))
        sign_in(t + R.uniform(8, 40), y, laptop(y, "office"), policy="ALLOW")
        t += R.uniform(60, 200)


@scenario("spray_vpn_egress", "Password spray", "lookalike", {"src": VPN_IP},
          "the corporate VPN egress (in the egress list): 11 accounts fail once after a forced password change")
def _():
    t = 3600 * 14 + 120
    for x in FIRST[:11]:
        y = u(x)
        failed_sign_in(t, y, laptop(y, "vpn"))
        t += R.uniform(30, 90)


# --- brute force ----------------------------------------------------------------------------------
@scenario("brute_fast", "Brute force", "attack", {"user": u("victim.bruteforce")["login"]},
          "7 wrong passwords for one account in 3 minutes from one IP, then the account locks")
def _():
    t = 3600 * 4 + 800
    x = u("victim.bruteforce")
    for i in range(7):
        failed_sign_in(t, x, ATTACKER["do"](ua="python", ip="203.0.113.90"))
        t += R.uniform(15, 30)
    ev(t, "user.account.lock", x, ATTACKER["do"](ua="python", ip="203.0.113.90"), targets=[user_ref(x)], display="Max sign in attempts exceeded",
       reason="LOCKED_OUT", debug={"requestUri": "/idp/idx/identify"})


@scenario("brute_slow", "Brute force (24 hours)", "attack", {"user": u("victim.slowbrute")["login"]},
          "32 wrong passwords for one account over the day, never 5 in 5 minutes")
def _():
    t = 600
    x = u("victim.slowbrute")
    for i in range(32):
        failed_sign_in(t, x, Client("203.0.113.%d" % (150 + i % 5), "hosting", "ashburn", "python"))
        t += R.uniform(1500, 2600)


@scenario("brute_typos", "Brute force", "lookalike", {"user": u("user.typos")["login"]},
          "three typos, then the right password")
def _():
    x = u("user.typos")
    t = 3600 * 8 + 1234
    for i in range(3):
        failed_sign_in(t, x, laptop(x, "home"))
        t += R.uniform(6, 20)
    sign_in(t, x, laptop(x, "home"), policy="CHALLENGE")


# --- session hijack -------------------------------------------------------------------------------
@scenario("hijack_cookie", "Session hijack", "attack", {"user": u("victim.hijack")["login"]},
          "the victim signs in at the office; 95 minutes later the same Okta session (and device token) opens apps from Lagos on Linux Firefox")
def _():
    x = u("victim.hijack")
    office = laptop(x, "office")
    session, t = sign_in(3600 * 10 + 200, x, office, policy="CHALLENGE")
    app_sign_in(t + 300, x, office, "Slack", session)
    app_sign_in(t + 1500, x, office, "Salesforce", session)
    thief = ATTACKER["ng"]()
    t = t + 95 * 60
    app_sign_in(t, x, thief, "Google Workspace", session, dt_of=office)
    app_sign_in(t + 140, x, thief, "Salesforce", session, dt_of=office)


@scenario("hijack_roaming", "Session hijack", "lookalike", {"user": u("user.roaming")["login"]},
          "signs in at the office, goes home, the same browser's session opens apps from the home IP")
def _():
    x = u("user.roaming")
    office = laptop(x, "office")
    session, t = sign_in(3600 * 10 + 900, x, office, policy="ALLOW")
    app_sign_in(t + 600, x, office, "Zoom", session)
    home = laptop(x, "home")
    app_sign_in(t + 80 * 60, x, home, "Slack", session)
    app_sign_in(t + 83 * 60, x, home, "Workday", session, mfa=True)


# --- recovery takeover ----------------------------------------------------------------------------
@scenario("takeover_sspr_sms", "Recovery takeover", "attack", {"user": u("victim.sspr")["login"]},
          "password reset by SMS (swapped SIM) from Amsterdam, then a sign-in from a new IP and device that enrols a new phone",
          also=["Sign-in without MFA"])
def _():
    x = u("victim.sspr")
    c = ATTACKER["nl"](ip="203.0.113.52")
    t = sspr_flow(3600 * 17 + 100, x, c, channel="sms")
    sign_in(t + 240, x, c, policy="CHALLENGE", new_ip=True, new_device=True, new_geo=True, risk="HIGH", enrol="+31 6 ••••• 4410")


@scenario("takeover_helpdesk", "Recovery takeover", "attack", {"user": u("victim.helpdesk")["login"]},
          "a caller talks the help desk into resetting the factors and the password; 40 minutes later a sign-in from a new device enrols a new phone",
          also=["Sign-in without MFA"])
def _():
    x = u("victim.helpdesk")
    hd = laptop(ADMIN)
    t = 3600 * 12 + 1000
    ev(t, "user.mfa.factor.reset_all", ADMIN, hd, targets=[user_ref(x)], display="Reset all factors for user",
       debug={"requestUri": "/api/v1/users/%s/lifecycle/reset_factors" % x["id"]})
    ev(t + 45, "user.account.reset_password", ADMIN, hd, targets=[user_ref(x)], display="Fired when the user's Okta password is reset",
       debug={"requestUri": "/api/v1/users/%s/lifecycle/reset_password" % x["id"]})
    c = ATTACKER["ng"](ip="203.0.113.122", ua="win_chrome")
    ev(t + 40 * 60, "user.account.update_password", x, c, targets=[user_ref(x)], display="User update password for Okta")
    sign_in(t + 40 * 60 + 30, x, c, policy="CHALLENGE", new_ip=True, new_device=True, new_geo=True, risk="HIGH",
            enrol="+234 80 ••••• 7781")


@scenario("takeover_usual_device", "Recovery takeover", "lookalike", {"user": u("user.sspr")["login"]},
          "resets a forgotten password by email at home and signs in from the usual laptop (push answered)")
def _():
    x = u("user.sspr")
    home = laptop(x, "home")
    t = sspr_flow(3600 * 7 + 2000, x, home, channel="email")
    sign_in(t + 60, x, home, policy="CHALLENGE")


# --- abandoned recovery ---------------------------------------------------------------------------
@scenario("abandoned_repeated", "Abandoned recovery", "attack", {"user": u("victim.resetspam")["login"]},
          "four password-reset emails for one account in 3 hours from a proxy, none completed")
def _():
    x = u("victim.resetspam")
    for i, t in enumerate([3600 * 5 + 300, 3600 * 6 + 100, 3600 * 7 + 200, 3600 * 7 + 3000]):
        sspr_flow(t, x, ATTACKER["nl"](ip="203.0.113.53"), channel="email", complete=False)


@scenario("abandoned_many_users", "Abandoned recovery", "attack", {"requester": "203.0.113.140"},
          "one IP requests password-reset SMS for four accounts in 25 minutes, none completed")
def _():
    t = 3600 * 19 + 1700
    for x in ["uma", "valentin", "wanda", "theo"]:
        sspr_flow(t, u(x), Client("203.0.113.140", "m247", "bucharest", "win_chrome"), channel="sms", complete=False)
        t += R.uniform(300, 420)


@scenario("abandoned_remembered", "Abandoned recovery", "lookalike", {"user": u("user.forgot")["login"]},
          "asks for a reset email, remembers the password and signs in four minutes later")
def _():
    x = u("user.forgot")
    home = laptop(x, "home")
    sspr_flow(3600 * 10 + 120, x, home, channel="email", complete=False)
    sign_in(3600 * 10 + 360, x, home, policy="CHALLENGE")


EVENTS.sort(key=lambda e: (e["published"], e["uuid"]))
with open("corpus.ndjson", "w") as f:
    for e in EVENTS:
        f.write(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n")
with open("labels.json", "w") as f:
    json.dump({"day": DAY.strftime("%Y-%m-%dT%H:%M:%SZ"), "egress_ips": "oktasight_egress_ips.csv", "scenarios": LABELS}, f, indent=1,
              ensure_ascii=False)
    f.write("\n")
print(len(EVENTS), "events,", len(LABELS), "labelled scenarios")
