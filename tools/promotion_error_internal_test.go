package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/sandbox"
)

// A platform request timeout inside a failed promotion is reported as the
// promotion error it is, with its class, not as "confirm_promotion was
// cancelled" (it wraps context.DeadlineExceeded, but nobody cancelled).
func TestPromotionErrorResult(t *testing.T) {
	pe := &sandbox.PromotionError{PlanID: "pln_01", Class: sandbox.ClassTimeout,
		Step:  sandbox.PlanStep{N: 2, ArtifactID: "seg_01", Kind: sandbox.KindSegment, Op: sandbox.OpCreate, Target: "hubspot"},
		Err:   fmt.Errorf("hubspot: create list: %w", context.DeadlineExceeded),
		Steps: []sandbox.StepState{{N: 1, State: sandbox.StateDone, Op: sandbox.OpCreate}, {N: 2, State: sandbox.StateFailed, Op: sandbox.OpCreate, Class: sandbox.ClassTimeout}}}
	res := errorResult(context.Background(), slog.New(slog.DiscardHandler), "confirm_promotion", pe)
	if !res.IsError {
		t.Fatal("not an error result")
	}
	text := res.Content[0].(mcp.TextContent).Text
	if strings.Contains(text, "was cancelled") || !strings.Contains(text, "did not answer within the request timeout") {
		t.Fatalf("text: %s", text)
	}
	var v struct {
		PromotionError sandbox.PromotionFailure `json:"promotion_error"`
	}
	if err := json.Unmarshal(res.StructuredContent.(json.RawMessage), &v); err != nil {
		t.Fatal(err)
	}
	f := v.PromotionError
	if f.Class != sandbox.ClassTimeout || f.Step != 2 || len(f.Steps) != 2 || f.Steps[1].State != sandbox.StateFailed {
		t.Fatalf("structured: %+v", f)
	}
}
