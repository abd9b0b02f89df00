package browsertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// passkeyPage registers a passkey and signs in with it, in plain
// JavaScript as a review page would, and writes what the browser returned
// into the DOM: #register-result and #signin-result get data-state "done"
// with JSON in their text, or "error" with the error.
const passkeyPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>passkey test</title>
<style>body { font: 16px sans-serif; margin: 2em; } pre { background: #eee; padding: 1em; white-space: pre-wrap; }</style>
</head><body>
<h1>Passkey test</h1>
<button id="register">Register</button> <button id="signin">Sign in</button>
<pre id="register-result"></pre>
<pre id="signin-result"></pre>
<script>
const b64url = buf => btoa(String.fromCharCode(...new Uint8Array(buf)))
	.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function report(id, work) {
	const el = document.getElementById(id);
	work().then(
		v => { el.textContent = JSON.stringify(v); el.dataset.state = 'done'; },
		e => { el.textContent = String(e); el.dataset.state = 'error'; });
}

// A discoverable get (no allowCredentials): only a resident credential
// can answer it.
async function signIn() {
	const got = await navigator.credentials.get({publicKey: {
		rpId: 'localhost',
		challenge: crypto.getRandomValues(new Uint8Array(32)),
		userVerification: 'required',
	}});
	const authData = new Uint8Array(got.response.authenticatorData);
	return {
		id: got.id,
		userHandle: b64url(got.response.userHandle),
		signatureBytes: got.response.signature.byteLength,
		// authenticatorData: 32 bytes of RP id hash, then the flags.
		userVerified: (authData[32] & 0x04) !== 0,
	};
}

document.getElementById('register').onclick = () => report('register-result', async () => {
	const cred = await navigator.credentials.create({publicKey: {
		rp: {id: 'localhost', name: 'lastmile test'},
		user: {id: new Uint8Array([1, 2, 3, 4]), name: 'reviewer@example.com', displayName: 'Reviewer'},
		challenge: crypto.getRandomValues(new Uint8Array(32)),
		pubKeyCredParams: [{type: 'public-key', alg: -7}],
		authenticatorSelection: {residentKey: 'required', requireResidentKey: true, userVerification: 'required'},
	}});
	return {created: cred.id, type: cred.type, assertion: await signIn()};
});
document.getElementById('signin').onclick = () => report('signin-result', signIn);
</script>
</body></html>
`

type assertion struct {
	ID             string `json:"id"`
	UserHandle     string `json:"userHandle"`
	SignatureBytes int    `json:"signatureBytes"`
	UserVerified   bool   `json:"userVerified"`
}

// servePage serves passkeyPage and returns its URL with the host
// "localhost": WebAuthn needs a domain as RP id, not an IP address, and
// http://localhost is a secure context, so no TLS is needed.
func servePage(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(passkeyPage))
	}))
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/"
}

// click clicks the button and returns the text of the result element once
// the page marked it done; a page error fails t.
func click(t *testing.T, ctx context.Context, button, result string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(button))); err != nil {
		t.Fatalf("click %s: %v", button, err)
	}
	// Poll's own timeout (30 s) bounds a promise that never settles.
	got, err := chromedp.Run(ctx, chromedp.Poll[string](`document.querySelector('`+result+`').dataset.state`))
	if err != nil {
		t.Fatalf("waiting for %s: %v", result, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(result)))
	if err != nil {
		t.Fatalf("reading %s: %v", result, err)
	}
	if got != "done" {
		t.Fatalf("%s: %s: %s", button, got, text)
	}
	return text
}

func TestPasskeyWithVirtualAuthenticator(t *testing.T) {
	ctx := Start(t)
	url := servePage(t)
	first, err := AddAuthenticator(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}

	var reg struct {
		Created   string    `json:"created"`
		Type      string    `json:"type"`
		Assertion assertion `json:"assertion"`
	}
	if err := json.Unmarshal([]byte(click(t, ctx, "#register", "#register-result")), &reg); err != nil {
		t.Fatal(err)
	}
	userHandle := base64.RawURLEncoding.EncodeToString([]byte{1, 2, 3, 4})
	if reg.Created == "" || reg.Type != "public-key" {
		t.Fatalf("create returned %+v, want a public-key credential", reg)
	}
	if a := reg.Assertion; a.ID != reg.Created || a.UserHandle != userHandle || !a.UserVerified || a.SignatureBytes == 0 {
		t.Fatalf("get returned %+v, want a signed, user-verified assertion by %s for user handle %s", a, reg.Created, userHandle)
	}

	creds, err := Credentials(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if len(creds) != 1 {
		t.Fatalf("authenticator holds %d credentials, want 1", len(creds))
	}
	c := creds[0]
	if id := base64.RawURLEncoding.EncodeToString(c.CredentialID); id != reg.Created || !c.IsResidentCredential || c.RpID != "localhost" || !bytes.Equal(c.UserHandle, []byte{1, 2, 3, 4}) {
		t.Fatalf("stored credential: id %s, resident %v, rp %q, user handle %v; want %s, true, localhost, [1 2 3 4]",
			id, c.IsResidentCredential, c.RpID, c.UserHandle, reg.Created)
	}

	// The same passkey on a new device: remove the first authenticator
	// (Chrome allows one internal authenticator per tab), copy the
	// credential into a second, and sign in again.
	if err := RemoveAuthenticator(ctx, first); err != nil {
		t.Fatal(err)
	}
	if _, err := Credentials(ctx, first); err == nil {
		t.Fatal("Credentials of a removed authenticator: no error")
	}
	second, err := AddAuthenticator(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := AddCredential(ctx, second, c); err != nil {
		t.Fatal(err)
	}
	var again assertion
	if err := json.Unmarshal([]byte(click(t, ctx, "#signin", "#signin-result")), &again); err != nil {
		t.Fatal(err)
	}
	if again.ID != reg.Created || !again.UserVerified {
		t.Fatalf("sign-in on the second authenticator returned %+v, want %s, user-verified", again, reg.Created)
	}
}

func TestScreenshot(t *testing.T) {
	ctx := Start(t)
	// Taller than the 900 px viewport, to show the capture is full-page.
	const pageHeight = 2000
	if err := chromedp.Do(ctx,
		chromedp.Navigate(servePage(t)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.body.style.minHeight = '%dpx'`, pageHeight)),
	); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{390, 1280} {
		path := Screenshot(t, ctx, t.Name(), width)
		if want := fmt.Sprintf("TestScreenshot-%d.png", width); !strings.HasSuffix(path, want) {
			t.Errorf("screenshot written to %s, want a file named %s", path, want)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s is not a PNG: %v", path, err)
		}
		if b := img.Bounds(); b.Dx() != width || b.Dy() < pageHeight {
			t.Errorf("%s is %dx%d, want %d wide and the whole page (%d px or more) high", path, b.Dx(), b.Dy(), width, pageHeight)
		}
	}
}
