package review

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/lastmile/lastmile/approvers"
	"github.com/lastmile/lastmile/sandbox"
)

// ceremony is one open passkey prompt: what the authenticator was asked to
// sign, and what for.
type ceremony struct {
	data    webauthn.SessionData
	expires time.Time
	email   string // who may answer it (approvals); who enrols
	planID  string // approvals: the plan, its hash and the decision; confirmations: the invitation
	hash    string
	action  string
	reason  string
	session string // the session it was opened in
}

// maxCeremonies bounds the open passkey prompts, which anyone who can reach
// the page can open (sign-in needs no session).
const maxCeremonies = 1000

func (s *Server) openCeremony(c *ceremony) (string, error) {
	id := randomToken()
	c.expires = s.now().Add(ceremonyTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.ceremonies {
		if s.now().After(v.expires) {
			delete(s.ceremonies, k)
		}
	}
	if len(s.ceremonies) >= maxCeremonies {
		return "", errors.New("too many passkey prompts are open; try again in a few minutes")
	}
	s.ceremonies[id] = c
	return id, nil
}

// takeCeremony removes and returns a ceremony: each is answered once, so
// a replayed assertion finds nothing.
func (s *Server) takeCeremony(id string) *ceremony {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ceremonies[id]
	delete(s.ceremonies, id)
	if c == nil || s.now().After(c.expires) {
		return nil
	}
	return c
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// --- enrolment: a one-time link registers a passkey ---

func (s *Server) enrolPage(w http.ResponseWriter, r *http.Request) {
	a, err := s.appr.Enrolling(r.Context(), r.PathValue("token"))
	if errors.Is(err, approvers.ErrNeedsEndorsement) {
		s.page(w, r, http.StatusForbidden, "message", pageData{Title: "Waiting for confirmation", Message: err.Error()})
		return
	}
	if err != nil {
		s.page(w, r, http.StatusGone, "message", pageData{Title: "Enrolment link not valid", Message: err.Error()})
		return
	}
	s.page(w, r, http.StatusOK, "enrol", pageData{Title: "Register your passkey", Email: a.Email, Roles: a.Roles, Token: r.PathValue("token")})
}

func (s *Server) enrolBegin(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	a, err := s.appr.Enrolling(r.Context(), token)
	if err != nil {
		s.refuse(w, r, http.StatusGone, err.Error())
		return
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range a.Credentials {
		exclude = append(exclude, c.Descriptor())
	}
	opts, data, err := s.wa.BeginRegistration(a,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementRequired, UserVerification: protocol.VerificationRequired}),
		webauthn.WithExclusions(exclude))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.enrolling[token] = &ceremony{data: *data, email: a.Email, expires: s.now().Add(ceremonyTTL)}
	s.mu.Unlock()
	writeJSON(w, opts)
}

func (s *Server) enrolFinish(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	c := s.enrolling[token]
	delete(s.enrolling, token)
	s.mu.Unlock()
	if c == nil || s.now().After(c.expires) {
		s.refuse(w, r, http.StatusBadRequest, "refused: no passkey registration is open for this link; reload the page and try again")
		return
	}
	a, err := s.appr.Enrolling(r.Context(), token)
	if err != nil {
		s.refuse(w, r, http.StatusGone, err.Error())
		return
	}
	cred, err := s.wa.FinishRegistration(a, c.data, r)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "refused: the passkey could not be registered: "+webauthnReason(err))
		return
	}
	if !cred.Flags.UserVerified {
		s.refuse(w, r, http.StatusBadRequest, "refused: the authenticator did not verify you (PIN, fingerprint or face); use one that does")
		return
	}
	a, err = s.appr.Enrol(r.Context(), token, *cred)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "refused: "+err.Error())
		return
	}
	s.audit(r.Context(), a.Email, "approver_enrolled", a.Email, map[string]any{"credential": approvers.CredentialID(cred.ID), "roles": a.Roles})
	s.startSession(w, a.Email)
	writeJSON(w, map[string]string{"next": "/"})
}

// --- sign-in: a passkey opens a session for viewing plans ---

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	s.page(w, r, http.StatusOK, "signin", pageData{Title: "Sign in", Next: next})
}

func (s *Server) signinBegin(w http.ResponseWriter, r *http.Request) {
	opts, data, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	id, err := s.openCeremony(&ceremony{data: *data, action: "signin"})
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, map[string]any{"ceremony": id, "options": opts})
}

func (s *Server) signinFinish(w http.ResponseWriter, r *http.Request) {
	c := s.takeCeremony(r.URL.Query().Get("ceremony"))
	if c == nil || c.action != "signin" {
		s.refuse(w, r, http.StatusBadRequest, "refused: this sign-in prompt expired or was already answered; try again")
		return
	}
	var who *approvers.Approver
	user, cred, err := s.wa.FinishPasskeyLogin(func(_, handle []byte) (webauthn.User, error) {
		a, err := s.appr.ByHandle(r.Context(), handle)
		who = a
		return a, err
	}, c.data, r)
	if err != nil || who == nil || user == nil {
		s.refuse(w, r, http.StatusForbidden, "refused: this passkey belongs to no enrolled approver: "+webauthnReason(err))
		return
	}
	if err := s.checkUse(r, who, cred); err != nil {
		s.refuse(w, r, http.StatusForbidden, err.Error())
		return
	}
	s.audit(r.Context(), who.Email, "review_signin", who.Email, map[string]any{"credential": approvers.CredentialID(cred.ID)})
	s.startSession(w, who.Email)
	writeJSON(w, map[string]string{"next": "/"})
}

// checkUse refuses an assertion without user verification or from a
// credential whose signature counter went back (a cloned authenticator),
// and records the use.
func (s *Server) checkUse(r *http.Request, a *approvers.Approver, cred *webauthn.Credential) error {
	if !cred.Flags.UserVerified {
		return errors.New("refused: the authenticator did not verify you (PIN, fingerprint or face)")
	}
	if cred.Authenticator.CloneWarning {
		return errors.New("refused: this passkey's signature counter went backwards, as a copied authenticator's does; remove it and enrol again")
	}
	return s.appr.Used(r.Context(), a.Email, *cred)
}

// --- approving and rejecting: a fresh assertion over the plan's hash ---

// decisionChallenge is what the authenticator signs for a decision on a
// plan: it covers the decision, the plan, its hash and a fresh nonce, so an
// assertion is good for that plan as it stands and nothing else.
func decisionChallenge(action, planID, hash, nonce string) []byte {
	sum := sha256.Sum256([]byte("lastmile review v1\x00" + action + "\x00" + planID + "\x00" + hash + "\x00" + nonce))
	return sum[:]
}

type decisionRequest struct {
	Hash   string `json:"hash"`
	Reason string `json:"reason"`
}

func (s *Server) decisionBegin(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	if action != "approve" && action != "reject" {
		http.NotFound(w, r)
		return
	}
	var req decisionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.refuse(w, r, http.StatusBadRequest, "refused: the request is not valid JSON")
		return
	}
	p, err := s.sb.GetPlan(r.Context(), r.PathValue("id"))
	if err != nil {
		s.refuse(w, r, http.StatusNotFound, err.Error())
		return
	}
	if req.Hash != p.Hash {
		s.refuse(w, r, http.StatusConflict, "refused: the plan changed since this page was loaded; reload it and review it again")
		return
	}
	if action == "reject" && strings.TrimSpace(req.Reason) == "" {
		s.refuse(w, r, http.StatusBadRequest, "give a reason for rejecting, so the agent knows what to change")
		return
	}
	s.askPasskey(w, r, decisionChallenge(action, p.ID, p.Hash, randomToken()), &ceremony{planID: p.ID, hash: p.Hash, action: action, reason: req.Reason})
}

// askPasskey opens a prompt for the signed-in approver's passkey over
// challenge, for what c says, and answers with its options.
func (s *Server) askPasskey(w http.ResponseWriter, r *http.Request, challenge []byte, c *ceremony) {
	ss := sessionOf(r)
	a, err := s.appr.Get(r.Context(), ss.email)
	if err != nil {
		s.refuse(w, r, http.StatusForbidden, "refused: "+ss.email+" is no longer an enrolled approver")
		return
	}
	opts, data, err := s.wa.BeginLogin(a, webauthn.WithChallenge(challenge), webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	c.data, c.email, c.session = *data, a.Email, ss.csrf
	id, err := s.openCeremony(c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, map[string]any{"ceremony": id, "options": opts})
}

// passkeyAnswer takes the prompt the request answers, if it is the
// signed-in approver's, for action on object, and verifies the assertion.
// It returns the approver and the credential, or refuses and returns nil.
func (s *Server) passkeyAnswer(w http.ResponseWriter, r *http.Request, action, object, nothing string) (*ceremony, *approvers.Approver, *webauthn.Credential) {
	ss := sessionOf(r)
	c := s.takeCeremony(r.URL.Query().Get("ceremony"))
	switch {
	case c == nil:
		s.refuse(w, r, http.StatusBadRequest, "refused: this passkey prompt expired or was already answered; "+nothing)
		return nil, nil, nil
	case c.action != action || c.planID != object || c.email != ss.email || c.session != ss.csrf:
		s.refuse(w, r, http.StatusForbidden, "refused: this passkey prompt was opened for something else; "+nothing)
		return nil, nil, nil
	}
	a, err := s.appr.Get(r.Context(), ss.email)
	if err != nil {
		s.refuse(w, r, http.StatusForbidden, "refused: "+ss.email+" is no longer an enrolled approver")
		return nil, nil, nil
	}
	cred, err := s.wa.FinishLogin(a, c.data, r)
	if err != nil {
		s.refuse(w, r, http.StatusForbidden, "refused: the passkey's answer does not verify for "+a.Email+": "+webauthnReason(err)+"; "+nothing)
		return nil, nil, nil
	}
	if err := s.checkUse(r, a, cred); err != nil {
		s.refuse(w, r, http.StatusForbidden, err.Error())
		return nil, nil, nil
	}
	return c, a, cred
}

func (s *Server) decisionFinish(w http.ResponseWriter, r *http.Request) {
	action, planID := r.PathValue("action"), r.PathValue("id")
	c, a, cred := s.passkeyAnswer(w, r, action, planID, "nothing was "+action+"d")
	if c == nil {
		return
	}
	var err error
	credID := approvers.CredentialID(cred.ID)
	var p *sandbox.Plan
	if action == "approve" {
		p, err = s.sb.Approve(r.Context(), sandbox.ApproveInput{PlanID: planID, Approver: a.Email, Channel: sandbox.ChannelReview, Hash: c.hash, Credential: credID, Enrolled: a.Roles})
	} else {
		p, err = s.sb.Reject(r.Context(), planID, a.Email, c.reason, sandbox.ChannelReview)
	}
	if err != nil {
		s.refuse(w, r, http.StatusConflict, err.Error())
		return
	}
	s.forget(planID)
	msg := fmt.Sprintf("Plan %s approved by %s.", p.ID, a.Email)
	switch {
	case action == "reject":
		msg = fmt.Sprintf("Plan %s rejected by %s: it can never be promoted.", p.ID, a.Email)
	case p.Status == sandbox.PlanApproved:
		msg += " It has every approval it needs: the agent can now call confirm_promotion."
	default:
		msg += " It still needs " + p.Missing() + "."
	}
	writeJSON(w, map[string]string{"message": msg, "status": p.Status})
}

// --- confirming an invitation: an enrolled approver vouches for a new one ---

// invitationChallenge covers the invitation and who it makes an approver,
// with which roles.
func invitationChallenge(inv *approvers.Invitation, nonce string) []byte {
	sum := sha256.Sum256([]byte("lastmile review v1 invitation\x00" + inv.Key + "\x00" + inv.Email + "\x00" + strings.Join(inv.Roles, ",") + "\x00" + nonce))
	return sum[:]
}

func (s *Server) confirmBegin(w http.ResponseWriter, r *http.Request) {
	inv, err := s.appr.Invitation(r.Context(), r.PathValue("key"))
	if err != nil {
		s.refuse(w, r, http.StatusGone, "refused: no such invitation is waiting (it was confirmed, used, removed or expired)")
		return
	}
	s.askPasskey(w, r, invitationChallenge(inv, randomToken()), &ceremony{planID: inv.Key, action: "confirm"})
}

func (s *Server) confirmFinish(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	c, a, cred := s.passkeyAnswer(w, r, "confirm", key, "nothing was confirmed")
	if c == nil {
		return
	}
	inv, err := s.appr.Invitation(r.Context(), key)
	if err == nil {
		err = s.appr.Endorse(r.Context(), key, a.Email)
	}
	if err != nil {
		s.refuse(w, r, http.StatusConflict, "refused: "+err.Error())
		return
	}
	s.audit(r.Context(), a.Email, "invitation_confirmed", inv.Email, map[string]any{"roles": inv.Roles, "invited_by": inv.InvitedBy, "credential": approvers.CredentialID(cred.ID)})
	writeJSON(w, map[string]string{"message": fmt.Sprintf("Confirmed: %s can now register a passkey with their link, for %d minutes.", inv.Email, int(approvers.EnrolmentTTL/time.Minute))})
}

// webauthnReason is the detail of a WebAuthn verification error.
func webauthnReason(err error) string {
	if err == nil {
		return "unknown credential"
	}
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return pe.Details + " (" + pe.DevInfo + ")"
	}
	return err.Error()
}
