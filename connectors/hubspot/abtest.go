package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// An A/B test maps to HubSpot's A/B email (marketing emails v3): the email
// is version A and carries testing{abTestPercentage, hoursToWait,
// abSuccessMetric OPENS_BY_DELIVERED or CLICKS_BY_DELIVERED,
// abSamplingDefault and abSampleSizeDefault "master"}; POST
// …/ab-test/create-variation makes version B from it, which lastmile then
// fills (PATCH) with variant b's subject, from name, preview text and
// content. Publishing A sends the test; HubSpot sends the winner to the
// rest after hoursToWait, and the master (the email as written) when the
// result is inconclusive or the audience too small — as lastmile's tie
// rule does.
//
// HubSpot has exactly two versions and waits whole hours: a third variant,
// or a decide_after of other than whole hours, is a plan-time problem.

// abTesting is version A's testing object.
func abTesting(ab *sandbox.ABTest) map[string]any {
	metric := map[string]string{sandbox.WinnerOpens: "OPENS_BY_DELIVERED", sandbox.WinnerClicks: "CLICKS_BY_DELIVERED"}[ab.Winner]
	return map[string]any{
		"abTestPercentage": ab.TestPercent, "hoursToWait": int(ab.Wait() / time.Hour), "abSuccessMetric": metric,
		"abSamplingDefault": "master", "abSampleSizeDefault": "master",
	}
}

// abProblems says what of an A/B test HubSpot cannot run as approved.
func abProblems(e *sandbox.Email) []string {
	ab := e.ABTest
	if ab == nil {
		return nil
	}
	var out []string
	if n := len(ab.Variants) + 1; n != 2 {
		out = append(out, fmt.Sprintf("HubSpot A/B emails have exactly two versions (A and B); this test has %d: keep one variant beside the email", n))
	}
	if w := ab.Wait(); w%time.Hour != 0 {
		out = append(out, fmt.Sprintf("decide_after is %s; HubSpot waits whole hours before sending the winner (testing.hoursToWait): use e.g. %s", w, w.Round(time.Hour)))
	}
	vs := e.Variants()
	for i, v := range vs[1:] {
		out = append(out, unrenderable("variant "+sandbox.VariantName(i+1)+"'s recipients", map[string]string{"subject": v.Subject, "preview_text": v.PreviewText, "html": v.HTML, "text": v.Text})...)
	}
	return out
}

// abLiveProblems: a live email's A/B pair cannot be undone by an update.
func (t *Target) abLiveProblems(ctx context.Context, obj sandbox.Object) ([]string, error) {
	id := obj.Refs[obj.ArtifactID]
	if id == "" || obj.Email.ABTest != nil {
		return nil, nil
	}
	cur, err := t.getEmail(ctx, id)
	if rest.StatusOf(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, t.fail("read email "+quote(obj.Email.Name), err)
	}
	if cur.IsAb && !cur.sent() {
		return []string{fmt.Sprintf("HubSpot email %s is an A/B test, and this revision drops the test; HubSpot keeps version B once made: stage the change as a new email, and archive this one with retire_artifact", id)}, nil
	}
	return nil, nil
}

// putABEmail is putEmail, then version B for an A/B test.
func (t *Target) putABEmail(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	st, err := t.putEmail(ctx, obj, liveID)
	if err != nil || obj.Email == nil || obj.Email.ABTest == nil {
		return st, err
	}
	if err := t.putVariation(ctx, obj, st.ID); err != nil {
		return st, err
	}
	// Reading A back: making B changes it (isAb, testing.testId).
	a, err := t.getEmail(ctx, st.ID)
	if err != nil {
		return st, t.fail("read email "+quote(obj.Email.Name), err)
	}
	return a.state(), nil
}

// putVariation makes version B of A (once: the spec's create-variation
// makes none when one exists, and lastmile asks for it first) and sets it
// to variant b.
func (t *Target) putVariation(ctx context.Context, obj sandbox.Object, aID string) error {
	e := obj.Email
	op := "make version B of A/B email " + quote(e.Name)
	var b hsEmail
	_, err := t.do(ctx, call{method: http.MethodGet, path: t.paths.emails + "/" + aID + "/ab-test/get-variation"}, &b)
	// B's marker is A's plus ".b": Find (hasMarker) never takes B for the
	// email, and the sweep's marker pattern has no '.', so B is never
	// taken for a stray of the artifact and discarded while A is live.
	name := markedName(e.Name+" (B)", obj.Marker+".b")
	switch {
	case rest.StatusOf(err) == http.StatusNotFound:
		body := map[string]any{"contentId": aID, "variationName": name}
		if _, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.emails + "/ab-test/create-variation", body: body, idempotent: true}, &b); err != nil {
			return t.fail(op, err)
		}
	case err != nil:
		return t.fail(op, err)
	}
	if b.sent() {
		return nil // sent with A: HubSpot cannot change it
	}
	vobj := obj
	vobj.Email = e.Variants()[1]
	body, err := t.emailBody(vobj, false)
	if err != nil {
		return fmt.Errorf("hubspot: %s: %w", op, err)
	}
	body["name"] = name
	if _, err := t.do(ctx, call{method: http.MethodPatch, path: t.paths.emails + "/" + b.ID, body: body, idempotent: true}, nil); err != nil {
		return t.fail(op, err)
	}
	return nil
}

// abVariants are an A/B email's figures per version: A's are the email's
// own (m), B's its variation's statistics (one more read). Only for
// all-time figures: the statistics endpoint's window is per email list,
// and lastmile does not know B's id there without this read either.
func (t *Target) abVariants(ctx context.Context, a hsEmail, m sandbox.Metrics, now time.Time) (map[string]map[string]int64, error) {
	if !a.IsAb {
		return nil, nil
	}
	var b hsEmail
	_, err := t.do(ctx, call{method: http.MethodGet, path: t.paths.emails + "/" + a.ID + "/ab-test/get-variation?includeStats=true"}, &b)
	if rest.StatusOf(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, t.fail("read the B version of A/B email "+a.ID, err)
	}
	var c map[string]int64
	if b.Stats != nil {
		c = b.Stats.Counters
	}
	return map[string]map[string]int64{"a": m.Counters, "b": normalize("", b.ID, c, nil, now).Counters}, nil
}
