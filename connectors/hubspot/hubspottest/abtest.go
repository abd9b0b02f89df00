package hubspottest

import (
	"fmt"
	"net/http"
	"time"
)

// A/B emails, as the marketing emails v3 spec has them: the email to test
// (version A, the master) carries testing{abTestPercentage, hoursToWait,
// abSuccessMetric, …}; POST …/ab-test/create-variation {contentId,
// variationName} makes version B as a draft copy of it ("if an active
// variation already exists, a new one won't be created"); GET
// …/{emailId}/ab-test/get-variation returns the other version. Publishing
// A sends the test: both versions go out, and HubSpot sends the winner to
// the rest after hoursToWait. B is not published on its own.

// createVariation is POST …/ab-test/create-variation.
func (s *Server) createVariation(q *request) (int, any, *httpError) {
	var body struct {
		ContentID     string `json:"contentId"`
		VariationName string `json:"variationName"`
	}
	if e := q.decode(schemaABCreate, &body); e != nil {
		return 0, nil, e
	}
	a, herr := s.email(body.ContentID)
	if herr != nil {
		return 0, nil, herr
	}
	switch {
	case a.ABVariation:
		return 0, nil, validationErr(fmt.Sprintf("Email %s is itself a variation: create the variation of its master %s", body.ContentID, a.ABPair))
	case a.Doc["type"] == "AUTOMATED_EMAIL":
		return 0, nil, validationErr("Automated emails cannot be A/B tested through this endpoint")
	case a.Doc["isPublished"] == true:
		return 0, nil, validationErr(fmt.Sprintf("Email %s is published; a variation cannot be added", body.ContentID))
	}
	if b, ok := s.st.Emails[a.ABPair]; ok && a.ABPair != "" {
		// An active variation exists: none is created.
		return http.StatusCreated, s.emailView(b, false), nil
	}
	id := s.st.newID(baseEmail)
	doc := clone(a.Doc)
	doc["id"], doc["name"] = id, body.VariationName
	doc["isAb"], doc["isPublished"], doc["state"] = true, false, "DRAFT"
	doc["createdAt"], doc["updatedAt"] = ts(q.now), ts(q.now)
	testing, _ := doc["testing"].(map[string]any)
	testing = clone(testing)
	testID := "ab-" + body.ContentID
	testing["isAbVariation"], testing["testId"] = true, testID
	doc["testing"] = testing
	s.st.Emails[id] = &emailObj{Doc: doc, ABPair: a.ID(), ABVariation: true}
	a.ABPair = id
	a.Doc["isAb"] = true
	at, _ := a.Doc["testing"].(map[string]any)
	at = clone(at)
	at["isAbVariation"], at["testId"] = false, testID
	a.Doc["testing"] = at
	q.setHeader("Location", "/marketing/v3/emails/"+id)
	return http.StatusCreated, s.emailView(s.st.Emails[id], false), nil
}

// getVariation is GET …/{emailId}/ab-test/get-variation: A gives B, B
// gives A.
func (s *Server) getVariation(q *request) (int, any, *httpError) {
	e, herr := s.email(q.path("emailId"))
	if herr != nil {
		return 0, nil, herr
	}
	other, ok := s.st.Emails[e.ABPair]
	if e.ABPair == "" || !ok {
		return 0, nil, notFound("A/B variation of email", q.path("emailId"))
	}
	return http.StatusOK, s.emailView(other, q.query("includeStats") == "true"), nil
}

// checkABPublish refuses what HubSpot would: publishing version B on its
// own, or an A/B test without its settings.
func (s *Server) checkABPublish(e *emailObj) *httpError {
	if e.ABPair == "" {
		return nil
	}
	if e.ABVariation {
		return validationErr(fmt.Sprintf("Email %s is the B version of an A/B test: publish its master %s", e.ID(), e.ABPair))
	}
	t, _ := e.Doc["testing"].(map[string]any)
	pct, _ := t["abTestPercentage"].(float64)
	hours, _ := t["hoursToWait"].(float64)
	var problems []ErrorDetail
	if pct < 1 || pct > 100 {
		problems = append(problems, ErrorDetail{Message: "The A/B test needs abTestPercentage between 1 and 100", In: "testing.abTestPercentage", Code: "INVALID"})
	}
	if hours < 1 {
		problems = append(problems, ErrorDetail{Message: "The A/B test needs hoursToWait of at least 1", In: "testing.hoursToWait", Code: "INVALID"})
	}
	if m := str(t["abSuccessMetric"]); m == "" {
		problems = append(problems, ErrorDetail{Message: "The A/B test needs abSuccessMetric", In: "testing.abSuccessMetric", Code: "MISSING_REQUIRED_FIELD"})
	}
	if len(problems) > 0 {
		return validationErr("The email cannot be published: "+problems[0].Message, problems...)
	}
	return nil
}

// publishVariation publishes B with its master A.
func (s *Server) publishVariation(a *emailObj, at time.Time) {
	b, ok := s.st.Emails[a.ABPair]
	if a.ABPair == "" || !ok {
		return
	}
	b.Doc["isPublished"], b.Doc["state"] = true, a.Doc["state"]
	b.Doc["publishDate"], b.Doc["publishedAt"] = a.Doc["publishDate"], a.Doc["publishedAt"]
	b.Doc["updatedAt"] = ts(at)
	b.Sent++
}

// ID is the email's id.
func (e *emailObj) ID() string { return str(e.Doc["id"]) }
