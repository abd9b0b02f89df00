// Package browsertest drives the machine's real Chromium from Go tests with
// chromedp: a fresh headless browser per test, a WebAuthn virtual
// authenticator (so passkey pages can be tested without a person or a
// security key), and screenshots at a given width.
//
// It never downloads a browser. It runs Debian's chromium: the path in
// LASTMILE_CHROMIUM, else /usr/bin/chromium, else chromium on PATH. Without
// one, tests skip — or fail when LASTMILE_REQUIRE_BROWSER=1, as in CI, so a
// CI machine that lost its browser cannot pass by skipping.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Start launches a headless Chromium for t and returns a chromedp context
// for one tab of it; pass it to chromedp.Run and to the helpers here. The
// browser is closed, and its profile removed, when t ends.
//
// The context has no deadline: per chromedp, a timeout on the context of
// the first Run would stop the whole browser. To bound a step, derive a
// context.WithTimeout from the returned one.
func Start(t testing.TB) context.Context {
	t.Helper()
	path, err := execPath()
	if err != nil {
		msg := "chromium not installed: apt-get install chromium (" + err.Error() + ")"
		if os.Getenv("LASTMILE_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; LASTMILE_REQUIRE_BROWSER=1 makes this a failure")
		}
		t.Skip(msg)
	}

	// Only the flags the tests need, rather than chromedp's defaults, so
	// what runs here is close to what a reviewer's browser runs. A fresh
	// profile per test: no cookies, passkeys or cache leak between tests.
	// (As root, chromium refuses to start without --no-sandbox.)
	profile := filepath.Join(t.TempDir(), "chromium-profile")
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(profile),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	// Registered after t.TempDir, so it runs before the profile is removed:
	// Cancel closes the browser, cancelAlloc waits for it to exit.
	t.Cleanup(func() {
		if err := chromedp.Cancel(ctx); err != nil {
			t.Logf("browsertest: closing chromium: %v", err)
		}
		cancelTab()
		cancelAlloc()
	})

	// Start the browser now, so a chromium that cannot start fails here,
	// with its error, rather than in the test's first step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	return ctx
}

// execPath finds the chromium to run; its error says where it looked.
func execPath() (string, error) {
	if p := os.Getenv("LASTMILE_CHROMIUM"); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("LASTMILE_CHROMIUM=%s: %w", p, err)
		}
		return found, nil
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if found, err := exec.LookPath(p); err == nil {
			return found, nil
		}
	}
	return "", fmt.Errorf("no /usr/bin/chromium, no chromium on PATH, LASTMILE_CHROMIUM unset")
}

// AddAuthenticator adds a virtual passkey authenticator to the tab of ctx:
// a platform authenticator (CTAP2, internal transport) that stores
// discoverable credentials, verifies the user and confirms presence by
// itself, so navigator.credentials.create and .get resolve with no prompt.
// It lives as long as the tab, across navigations. Chrome allows one such
// authenticator per tab: remove it before adding another.
func AddAuthenticator(ctx context.Context) (webauthn.AuthenticatorID, error) {
	// EnableUI left false: no browser dialogs to click through.
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		return "", fmt.Errorf("WebAuthn.enable: %w", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		return "", fmt.Errorf("WebAuthn.addVirtualAuthenticator: %w", err)
	}
	return res.AuthenticatorID, nil
}

// Credentials returns the credentials stored in the authenticator id,
// private keys included, so a test can check what a page registered or
// copy a credential into another authenticator with AddCredential.
func Credentials(ctx context.Context, id webauthn.AuthenticatorID) ([]*webauthn.Credential, error) {
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		return nil, fmt.Errorf("WebAuthn.getCredentials: %w", err)
	}
	return res.Credentials, nil
}

// AddCredential stores cred, such as one that Credentials returned, in the
// authenticator id: the same passkey on another device.
//
// It does not send webauthn.AddCredentialParams as is: cdproto always
// sends generateCmtgKeyOnNextOperation, false included, and Chromium
// rejects any CMTG field for an authenticator without that extension
// ("CMTG is not supported by this authenticator"). So the credential goes
// as JSON without that field when it is false.
func AddCredential(ctx context.Context, id webauthn.AuthenticatorID, cred *webauthn.Credential) error {
	b, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	if !cred.GenerateCmtgKeyOnNextOperation {
		delete(fields, "generateCmtgKeyOnNextOperation")
	}
	addCredential := cdp.Command[map[string]any, cdp.Empty]{Method: webauthn.CommandAddCredential}
	if _, err := chromedp.Call(ctx, addCredential, map[string]any{"authenticatorId": id, "credential": fields}); err != nil {
		return fmt.Errorf("WebAuthn.addCredential: %w", err)
	}
	return nil
}

// RemoveAuthenticator removes the authenticator id and its credentials
// from the tab, as when a reviewer's device goes away.
func RemoveAuthenticator(ctx context.Context, id webauthn.AuthenticatorID) error {
	if _, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: id}); err != nil {
		return fmt.Errorf("WebAuthn.removeVirtualAuthenticator: %w", err)
	}
	return nil
}

// screenshotHeight is the viewport height for Screenshot; the capture
// covers the whole page anyway, so it only matters to layouts sized by
// viewport height (100vh).
const screenshotHeight = 900

// unsafeName matches what may not go into a file name unchanged, such as
// the slash in a subtest's t.Name().
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot sets the tab's viewport to widthPx wide (scale 1, desktop, not
// mobile, scrollbars hidden), captures the whole page as PNG, and writes it to
// <name>-<widthPx>.png in $LASTMILE_ARTIFACTS when set (CI keeps that
// folder), else in a directory of t's that is removed when t ends. It logs
// and returns the file's path, and fails t on any error.
//
// The viewport keeps that width, and scrollbars stay hidden, afterwards,
// so later steps see the same layout as the screenshot.
func Screenshot(t testing.TB, ctx context.Context, name string, widthPx int) string {
	t.Helper()
	dir := os.Getenv("LASTMILE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browsertest: screenshot folder: %v", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.png", unsafeName.ReplaceAllString(name, "_"), widthPx))

	// A page taller than the viewport would otherwise lose 15 px of its
	// width to a scrollbar, and a <name>-390.png be 375 wide; phones
	// overlay theirs anyway. Before the metrics, as their change is what
	// relayouts the page: hidden after it, the first capture still had
	// the scrollbar.
	if _, err := chromedp.Call(ctx, emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: true}); err != nil {
		t.Fatalf("browsertest: hiding scrollbars: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(widthPx), Height: screenshotHeight, DeviceScaleFactor: 1,
	}); err != nil {
		t.Fatalf("browsertest: viewport %dx%d: %v", widthPx, screenshotHeight, err)
	}
	// Then as tall as the page: frames in another process (sandboxed
	// iframes are) are painted only inside the viewport, so a capture
	// beyond it would show them blank.
	height, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	if err != nil {
		t.Fatalf("browsertest: page height: %v", err)
	}
	if height = min(max(height, screenshotHeight), 16384); height > screenshotHeight {
		if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: int64(widthPx), Height: height, DeviceScaleFactor: 1,
		}); err != nil {
			t.Fatalf("browsertest: viewport %dx%d: %v", widthPx, height, err)
		}
		// The frames paint once they are in the viewport.
		time.Sleep(500 * time.Millisecond)
	}
	// Quality 100 is what makes FullScreenshot capture PNG, not JPEG.
	data, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
