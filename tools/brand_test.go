package tools_test

import (
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

func baselinePolicy(t *testing.T, a governance.BrandAnswers) *governance.Policy {
	t.Helper()
	src, err := governance.BaselinePolicy(a)
	if err != nil {
		t.Fatal(err)
	}
	p, err := governance.Parse("policy.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A server on the unbranded baseline tells the agent, in the initialize
// instructions, the policy resource and check_campaign, which brand values
// a human must set with lastmile init; a US email is blocked for the
// postal address it cannot carry, with that fix.
func TestUnbrandedServerSaysWhatToSet(t *testing.T) {
	h := newHarness(t, withPolicy(baselinePolicy(t, governance.BrandAnswers{})))
	if in := h.init.Instructions; !strings.Contains(in, "BRAND NOT SET") || !strings.Contains(in, "lastmile init") || !strings.Contains(in, "brand.footer.postal_address") {
		t.Errorf("instructions do not say what to set:\n%s", in)
	}
	if pol := readResource(t, h, "lastmile://policy"); !strings.Contains(pol, "Brand not set") || !strings.Contains(pol, "lastmile init") {
		t.Errorf("policy resource does not say what to set:\n%s", pol)
	}
	if strings.Contains(strings.ToLower(readResource(t, h, "lastmile://policy")), "acme") {
		t.Errorf("the unbranded policy resource mentions Acme")
	}

	cmp := str(t, mustOK(t, h.call(t, "create_campaign", obj{"name": "First", "markets": []string{"US"}})), "id")
	h.stage(t, "create_email", blocksEmailArgs(cmp))
	res := h.call(t, "check_campaign", obj{"campaign_id": cmp})
	out := mustOK(t, res)
	if !strings.Contains(text(res), "lastmile init") {
		t.Errorf("check_campaign text does not send a human to lastmile init: %s", text(res))
	}
	if u, _ := out["brand_unset"].([]any); len(u) != 3 {
		t.Errorf("brand_unset = %v", out["brand_unset"])
	}
	found := false
	for _, f := range out["findings"].([]any) {
		f := f.(obj)
		if f["rule"] == "footer.can-spam" {
			found = true
			if f["level"] != "error" || !strings.Contains(f["message"].(string), "brand.footer.postal_address is not set") || !strings.Contains(f["fix"].(string), "A human runs `lastmile init`") {
				t.Errorf("footer.can-spam finding: %v", f)
			}
		}
	}
	if !found || out["passed"] != false {
		t.Errorf("a US email without a postal address passes: %v", out)
	}
}

// With the brand set, nothing says it is unset, and the instructions give
// the defaults campaigns inherit.
func TestBrandedServerGivesDefaults(t *testing.T) {
	h := newHarness(t, withPolicy(baselinePolicy(t, governance.BrandAnswers{
		Company: "Northwind Coffee Roasters", PostalAddress: "1 Bean Street, Portland, OR 97201, USA", Website: "https://northwind.coffee",
		FromName: "Northwind Coffee", FromEmail: "hello@northwind.coffee", Markets: []string{"US", "CA"}, Industry: "food",
	})))
	in := h.init.Instructions
	if strings.Contains(in, "BRAND NOT SET") || !strings.Contains(in, "industry food; markets US, CA; sender Northwind Coffee <hello@northwind.coffee>") {
		t.Errorf("instructions:\n%s", in)
	}
	camp := mustOK(t, h.call(t, "create_campaign", obj{"name": "Spring"}))["campaign"].(obj)
	if camp["industry"] != "food" {
		t.Errorf("campaign did not inherit the policy's industry: %v", camp)
	}
	res := h.call(t, "check_campaign", obj{"campaign_id": camp["id"]})
	if out := mustOK(t, res); out["brand_unset"] != nil || strings.Contains(text(res), "lastmile init") {
		t.Errorf("branded check says the brand is unset: %v %s", out["brand_unset"], text(res))
	}
}
