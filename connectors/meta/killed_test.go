package meta_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/meta"
	"github.com/lastmile/lastmile/connectors/meta/metatest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

const (
	envKillURL = "LASTMILE_META_KILL_URL"
	envKillDir = "LASTMILE_META_KILL_DIR"
)

// TestHelperMetaPromoter is the child of TestKilledDuringPromotion: it
// puts a 2×2 campaign into the fake named by the environment.
func TestHelperMetaPromoter(t *testing.T) {
	base := os.Getenv(envKillURL)
	if base == "" {
		t.Skip("helper process only")
	}
	tg, err := meta.New("fb", os.Getenv(envKillDir), meta.Config{AdAccount: metatest.DefaultAccountID, PageID: metatest.DefaultPageID, BaseURL: base},
		meta.WithCredentials(metatest.DefaultToken, ""), meta.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Put(context.Background(), adObj("ad_kill", 2, 2), "")
	t.Fatalf("the helper should have been killed during the third ad create; Put returned %v", err)
}

// A promoting process is SIGKILLed while Meta is still applying its third
// ad create; the create commits after the process is gone. The resumed
// promotion waits out LandWithin (here: until the write committed), finds
// the campaign by its marker and puts it again with Resumed: it ends with
// exactly one campaign, two ad sets, four creatives and four ads.
func TestKilledDuringPromotion(t *testing.T) {
	if os.Getenv(envKillURL) != "" {
		t.Skip("child")
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	srv := metatest.New(t)
	srv.Inject(faketest.Fault{Op: "POST /act_{id}/ads", Skip: 2, Kind: faketest.SlowApply, Delay: 300 * time.Millisecond})
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMetaPromoter$", "-test.count=1")
	cmd.Env = append(os.Environ(), envKillURL+"="+srv.URL, envKillDir+"="+t.TempDir())
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for srv.Applying() == 0 {
		select {
		case err := <-exited:
			t.Fatalf("the child ended before the slow create (%v):\n%s", err, out.String())
		case <-time.After(2 * time.Millisecond):
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	if srv.Applied() != 0 {
		t.Fatal("the slow create committed before the child was killed; the test proves nothing")
	}
	// The sandbox waits LandWithin before it reconciles an interrupted
	// step; here the fake tells when the write has landed.
	for deadline := time.Now().Add(10 * time.Second); srv.Applying() > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow create never committed")
		}
	}
	tg := newTarget(t, srv)
	obj := adObj("ad_kill", 2, 2)
	obj.Resumed = true
	st, found, err := tg.Find(context.Background(), obj)
	if err != nil || !found {
		t.Fatalf("Find after the kill: %v %v", found, err)
	}
	put(t, tg, obj, st.ID)
	if c := counts(srv); c != [4]int{1, 2, 4, 4} {
		t.Fatalf("campaigns, ad sets, creatives, ads = %v, want 1 2 4 4", c)
	}
	seen := map[string]int{}
	for _, typ := range []string{"adset", "adcreative", "ad"} {
		for _, o := range live(srv, typ) {
			seen[typ+" "+o.Name[strings.LastIndex(o.Name, "["):]]++
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s exists %d times", k, n)
		}
	}
}
