package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const northwindFooter = `<p>Northwind Coffee Roasters<br>1 Bean Street, Portland, OR 97201, USA</p>` +
	`<p><a href="https://northwind.coffee/contact">Contact us</a> · <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`

func northwindHTML(footer string) string {
	return `<!DOCTYPE html><html><head><title>Spring roasts</title></head><body>` +
		`<h1>Our spring roasts are here</h1>` +
		`<img src="https://cdn.northwind.coffee/spring/beans.jpg" alt="A bag of spring roast beans" width="600">` +
		`<p>Hi {{ contact.firstname | default: "there" }}, three new single origins just left the roaster.</p>` +
		`<p><a href="https://northwind.coffee/shop/spring">Shop the roasts</a></p>` + footer + `</body></html>`
}

// lastmile init with flags, as a script runs it, onboards a real company's
// brand: its compliant email passes the policy written, and the same email
// without its postal address is blocked. The contacts stay as they were.
func TestInitWithFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, _, code := runBin(t, "init", "--data-dir", dir); code != 0 {
		t.Fatal("plain init failed")
	}
	contacts := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(contacts, []byte("email\nme@northwind.coffee\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runBin(t, "init", "--no-input", "--data-dir", dir,
		"--company", "Northwind Coffee Roasters", "--address", "1 Bean Street, Portland, OR 97201, USA",
		"--website", "https://northwind.coffee", "--sending-domain", "northwind.coffee", "--from-name", "Northwind Coffee",
		"--from-email", "hello@northwind.coffee", "--market", "US", "--market", "CA", "--industry", "food")
	if code != 0 {
		t.Fatalf("init with flags: %d\n%s\n%s", code, out, errOut)
	}
	policy, err := os.ReadFile(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(policy), "Northwind Coffee Roasters") || strings.Contains(strings.ToLower(string(policy)), "acme") {
		t.Fatalf("the policy is not Northwind's:\n%s", policy)
	}
	if got, _ := os.ReadFile(contacts); string(got) != "email\nme@northwind.coffee\n" {
		t.Errorf("init replaced the contacts: %q", got)
	}
	check := func(html string) (string, int) {
		f := filepath.Join(t.TempDir(), "spring.html")
		if err := os.WriteFile(f, []byte(html), 0o600); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runBin(t, "check", f, "--policy", filepath.Join(dir, "policy.yaml"), "--market", "US", "--industry", "food", "--subject", "Three new spring roasts")
		return out + errOut, code
	}
	if out, code := check(northwindHTML(northwindFooter)); code != 0 || strings.Contains(out, "ERROR") {
		t.Fatalf("a compliant Northwind email: exit %d\n%s", code, out)
	}
	noAddress := strings.Replace(northwindFooter, "<br>1 Bean Street, Portland, OR 97201, USA", "", 1)
	if out, code := check(northwindHTML(noAddress)); code != 1 || !strings.Contains(out, "1 Bean Street") {
		t.Fatalf("the email without the postal address: exit %d\n%s", code, out)
	}
	// A second init with new answers keeps the first policy as a backup
	// only with --force: it is no longer the unbranded baseline.
	if _, errOut, code := runBin(t, "init", "--no-input", "--data-dir", dir, "--company", "Other"); code != 2 || !strings.Contains(errOut, "--force") {
		t.Fatalf("re-init over a branded policy: %d %s", code, errOut)
	}
}
