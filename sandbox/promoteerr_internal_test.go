package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"
)

type statusErr struct {
	status int
	retry  time.Duration
}

func (e *statusErr) Error() string             { return fmt.Sprintf("POST /x: HTTP %d", e.status) }
func (e *statusErr) HTTPStatus() int           { return e.status }
func (e *statusErr) RetryAfter() time.Duration { return e.retry }

type netTimeout struct{}

func (netTimeout) Error() string   { return "i/o timeout" }
func (netTimeout) Timeout() bool   { return true }
func (netTimeout) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	live := context.Background()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	wrap := func(err error) error { return fmt.Errorf("hubspot: create email %q: %w", "Spring", err) }
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		err   error
		class string
		retry time.Duration
	}{
		{"503 with Retry-After", live, wrap(&statusErr{status: 503, retry: 20 * time.Second}), ClassOutage, 20 * time.Second},
		{"500", live, wrap(&statusErr{status: 500}), ClassOutage, 0},
		{"connection reset", live, wrap(syscall.ECONNRESET), ClassOutage, 0},
		{"connection refused", live, wrap(syscall.ECONNREFUSED), ClassOutage, 0},
		{"response cut short", live, wrap(io.ErrUnexpectedEOF), ClassOutage, 0},
		{"429", live, wrap(&statusErr{status: 429, retry: 10 * time.Second}), ClassRateLimited, 10 * time.Second},
		{"400", live, wrap(&statusErr{status: 400}), ClassRejected, 0},
		{"404", live, wrap(&statusErr{status: 404}), ClassRejected, 0},
		{"conflict", live, fmt.Errorf("slug taken: %w", ErrConflict), ClassRejected, 0},
		{"not supported", live, fmt.Errorf("journeys: %w", ErrNotSupported), ClassRejected, 0},
		{"auth sentinel", live, wrap(errors.Join(ErrAuth, &statusErr{status: 401})), ClassAuth, 0},
		{"401", live, wrap(&statusErr{status: 401}), ClassAuth, 0},
		{"connector deadline", live, wrap(context.DeadlineExceeded), ClassTimeout, 0},
		{"net timeout", live, wrap(netTimeout{}), ClassTimeout, 0},
		{"caller cancelled", gone, wrap(context.Canceled), ClassCancelled, 0},
		{"caller cancelled, platform answered 503", gone, wrap(&statusErr{status: 503}), ClassCancelled, 0},
		{"journal write failed", live, errors.New("journal: no space left on device"), ClassInternal, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			class, retry := classify(tc.ctx, tc.err)
			if class != tc.class || retry != tc.retry {
				t.Fatalf("classify = %q, %v; want %q, %v", class, retry, tc.class, tc.retry)
			}
		})
	}
}

// TestPromotionErrorText: what each class's message says, and that it
// claims nothing the journal does not show.
func TestPromotionErrorText(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	landBy := now.Add(45 * time.Second)
	step := PlanStep{N: 3, ArtifactID: "eml_01", Kind: KindEmail, Op: OpCreate, Target: "hubspot"}
	mixed := []StepState{
		{N: 1, Op: OpCreate, State: StateDone}, {N: 2, Op: OpCreate, State: StateInFlight},
		{N: 3, Op: OpCreate, State: StateFailed}, {N: 4, Op: OpSend, State: StateNotStarted},
	}
	none := []StepState{{N: 1, Op: OpCreate, State: StateNotStarted}, {N: 3, Op: OpCreate, State: StateFailed}}
	for _, tc := range []struct {
		name    string
		e       PromotionError
		want    []string
		notWant []string
		retry   int
	}{
		{
			name:    "outage with retry-after, parallel steps in other states",
			e:       PromotionError{Class: ClassOutage, RetryAfter: 20 * time.Second, Steps: mixed},
			want:    []string{"hubspot is unavailable", "nothing in the plan needs fixing", "hubspot asked for 20 s", "step 1 live and recorded", "step 2 sent with no answer recorded", "step 3 failed", "step 4 not started", "resumes at the steps not done"},
			notWant: []string{"steps before it are live", "fix the cause"},
			retry:   20,
		},
		{
			name:    "outage, nothing started",
			e:       PromotionError{Class: ClassOutage, Steps: none},
			want:    []string{"no step is live yet", "nothing is live yet, so it starts over", "wait a minute or two"},
			notWant: []string{"resumes", "live and recorded"},
		},
		{
			name:  "rate limited",
			e:     PromotionError{Class: ClassRateLimited, RetryAfter: 10 * time.Second, Steps: mixed},
			want:  []string{"429", "asked for 10 s", "call confirm_promotion again"},
			retry: 10,
		},
		{
			name:    "rejected",
			e:       PromotionError{Class: ClassRejected, Steps: mixed},
			want:    []string{"rejected the request", "will fail the same way", "run plan_promotion again"},
			notWant: []string{"Wait"},
		},
		{
			name: "auth",
			e:    PromotionError{Class: ClassAuth, Steps: mixed},
			want: []string{"did not accept lastmile's credentials", "must reconnect hubspot"},
		},
		{
			name:    "timeout",
			e:       PromotionError{Class: ClassTimeout, LandBy: landBy, Steps: mixed},
			want:    []string{"did not answer within the request timeout", "may still land", "Wait 45 s", "looks the object up by its marker before creating anything"},
			notWant: []string{"cancelled"},
			retry:   45,
		},
		{
			name: "cancelled",
			e:    PromotionError{Class: ClassCancelled, Steps: none},
			want: []string{"confirm_promotion was cancelled by its caller", "call confirm_promotion again"},
		},
		{
			name: "internal",
			e:    PromotionError{Class: ClassInternal, Steps: mixed},
			want: []string{"lastmile could not carry out the step", "not a platform answer"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.e
			e.PlanID, e.Step, e.Now, e.Err = "pln_01", step, now, errors.New("the platform's words")
			msg := e.Error()
			if !strings.Contains(msg, "plan pln_01 stopped at step 3 (create email eml_01 on hubspot)") || !strings.Contains(msg, "the platform's words") {
				t.Errorf("message does not name the step and the cause: %s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q: %s", w, msg)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("message says %q: %s", w, msg)
				}
			}
			f := e.Failure()
			if f.Class != e.Class || f.Step != 3 || f.Target != "hubspot" || f.RetryAfterSeconds != tc.retry || len(f.Steps) != len(e.Steps) {
				t.Errorf("structured form %+v", f)
			}
		})
	}
}

// TestStatesLandBy: the wait counts attempts that may have applied
// something, not those the platform definitely refused.
func TestStatesLandBy(t *testing.T) {
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	recs := []journalRecord{
		{Step: 1, Type: recIntent, At: t0, LandBy: t0.Add(30 * time.Second)},
		{Step: 1, Type: recFailed, Class: ClassTimeout},
		{Step: 1, Type: recIntent, At: t0.Add(time.Minute), LandBy: t0.Add(90 * time.Second)},
		{Step: 1, Type: recFailed, Class: ClassRateLimited},
		{Step: 2, Type: recIntent, At: t0, LandBy: t0.Add(30 * time.Second)},
		{Step: 2, Type: recFailed, Class: ClassRejected},
	}
	st := states(recs)
	if got := st[1].landBy(); !got.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("step 1 lands by %v, want the timed-out attempt's deadline", got)
	}
	if got := st[2].landBy(); !got.IsZero() {
		t.Errorf("step 2 lands by %v, want zero (refused)", got)
	}
}

// A create that runs longer than half its window (a connector retrying it)
// extends the window: a resume must wait for the latest send, not the
// first.
func TestInFlightExtendsLandBy(t *testing.T) {
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	st := states([]journalRecord{
		{Step: 1, Type: recIntent, At: t0, LandBy: t0.Add(time.Minute)},
		{Step: 1, Type: recInFlight, At: t0.Add(30 * time.Second), LandBy: t0.Add(2 * time.Minute)},
		{Step: 1, Type: recInFlight, At: t0.Add(time.Minute), LandBy: t0.Add(150 * time.Second)},
	})
	if got := st[1].landBy(); !got.Equal(t0.Add(150 * time.Second)) {
		t.Fatalf("lands by %v, want the last in-flight record's", got)
	}

	dir := t.TempDir()
	j, err := openFileJournal(dir, "pln_slow")
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	s := &Sandbox{now: time.Now, log: slog.New(slog.DiscardHandler)}
	step := PlanStep{N: 1, Key: "k", Op: OpCreate}
	stop := s.keepLanding(context.Background(), j, step, 40*time.Millisecond)
	time.Sleep(90 * time.Millisecond) // a create running over two half windows
	stop()
	fast := s.keepLanding(context.Background(), j, PlanStep{N: 2, Key: "k2", Op: OpCreate}, time.Hour)
	fast()
	recs, err := readFileJournal(dir, "pln_slow")
	if err != nil {
		t.Fatal(err)
	}
	var inflight1, inflight2 int
	for _, r := range recs {
		if r.Type == recInFlight && r.Step == 1 {
			inflight1++
		}
		if r.Type == recInFlight && r.Step == 2 {
			inflight2++
		}
	}
	if inflight1 == 0 || inflight2 != 0 {
		t.Fatalf("in-flight records: slow create %d (want some), fast create %d (want none)", inflight1, inflight2)
	}
}
