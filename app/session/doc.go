// Package session is the sequence engine: it turns Okta System Log events into sign-in,
// app sign-in, self-service password reset and self-service unlock sequences. It is pure:
// events in, sequences out, no I/O.
//
// Extraction (ParseRaw from Okta JSON, FromFields from Splunk fields or the compact fields a
// map phase writes) is separate from sequencing (Engine), so both paths feed the same Event.
//
// # Rules
//
//   - Flows: signin (user.session.start → policy.evaluate_sign_on → MFA* →
//     user.authentication.verify), app_signin (the app's policy.evaluate_sign_on → MFA* →
//     user.authentication.sso, or application.policy.sign_on.deny_access), sspr (reset send → MFA* → reset_password →
//     update_password), unlock (unlock send → MFA* → [unlock_token] → unlock; Identity Engine
//     orgs never log unlock_token, so it is not required).
//   - Key (by=user): actor.id when the actor is a User; for MFA, recovery and password events an
//     admin acting on another User target belongs to the target; otherwise the first target of
//     type User; a sign-in by an unknown user is keyed by actor.alternateId. by=session keys by
//     authenticationContext.externalSessionId, by=ip by client.ipAddress; an event without the
//     key is dropped from sequencing and counted in Stats.NoKey (failed sign-ins carry no
//     session id, so by=session never shows them).
//   - A start event (user.session.start, a recovery send) closes the key's open flow of the same
//     kind and opens a new one; each failed user.session.start is a signin sequence of its own.
//     A successful user.session.start instead joins the open signin that has no start when one
//     of its events shares the start's transaction.id or externalSessionId.
//   - policy.evaluate_sign_on with an AppInstance target (Event.App) is an app's sign-on policy:
//     it belongs to that app's app_signin, not to a signin. An app_signin event naming another
//     app than the open app_signin's ends that one (incomplete).
//   - An MFA event joins the most recently started open flow of its key. With none open, it
//     opens the flow of the next non-MFA event of its Okta session (a verify: signin, as when
//     the search's range cut the start), or an app_signin.
//   - A continuing step (policy, verify, sso, deny, reset_password, unlock_token, unlock) joins
//     the open flow of its kind or opens one, earlier required steps then listed in missing;
//     user.account.update_password with no open sspr is an ordinary password change and joins
//     nothing (Stats.Unowned).
//   - A successful terminal step (verify, sso, update_password, unlock) or deny_access ends the
//     flow. A flow also ends when its next event would come more than MaxPause after its last
//     event, or more than MaxSpan after its first (that event then starts the next sequence,
//     like transaction maxspan), and when the key's buffered events end.
//   - Status: success when a successful terminal step was reached (a later success wins);
//     denied when it ended at deny_access; failure when its last step has outcome FAILURE;
//     denied when any step was a DENY; otherwise incomplete. A flow closed because the user
//     started the same flow again is incomplete unless it succeeded or was denied, as the
//     issue asks: the failure did not end it, the user's retry did.
//   - missing lists required steps not seen; a missing send step is written
//     password_reset_send or account_unlock_send, as any of three channels would do.
//   - mfa_factors are debugContext.debugData.factor, else the authenticator target's
//     displayName, else the factor a send event implies (OKTA_VERIFY_PUSH, EMAIL, SMS, CALL).
//     mfa_sent counts send events; mfa_verified successful auth_via_mfa, mfa_enrolled
//     successful factor.activate (an enrolment is not a verification), mfa_failed both failed.
//   - cut is "start" when Options.Earliest is known, the flow's first documented step
//     (start, send, or an app_signin's policy evaluation) is missing and the flow starts less
//     than MaxSpan after Options.Earliest.
//   - policy_result is the strictest outcome of the flow's policy evaluations (DENY, CHALLENGE,
//     ALLOW); risk the highest level; behaviors, dt_hash, country, city, asn and isp distinct
//     values in time order; proxy "true" when any event came through one.
//   - Flows not selected in Options.Flows are still tracked (an MFA event must know which
//     flow is open) but never emitted.
//
// # Order and memory
//
// Splunk sends events newest first, | sort _time oldest first; both give the same sequences.
// The engine buffers each key's events and, once the stream has moved more than
// MaxPause+Disorder past the key's last buffered event (a gap no flow can cross), sorts them
// oldest first (ties: documented step order, then uuid, then content) and runs the state
// machine over them. The direction is detected from the first two distinct timestamps unless
// Options.Order says it. Sequences are emitted in the order keys complete, and within a key in
// start order; compare outputs as sets.
package session
