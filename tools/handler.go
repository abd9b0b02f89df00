package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/lastmile/lastmile/internal/accesstoken"
	"github.com/lastmile/lastmile/internal/lru"
	"github.com/lastmile/lastmile/sandbox"
)

// hints are the four tool annotations; every spec states all four, and the
// wire carries those that differ from MCP's defaults.
type hints struct {
	readOnly, destructive, idempotent, openWorld bool
}

// annotation states the hints that differ from the defaults MCP gives an
// absent one (readOnly false, destructive true, idempotent false, openWorld
// true); destructive and idempotent mean something only for a tool that
// writes.
func (h hints) annotation(title string) mcp.ToolAnnotation {
	a := mcp.ToolAnnotation{Title: title}
	if h.readOnly {
		a.ReadOnlyHint = mcp.ToBoolPtr(true)
	} else {
		if !h.destructive {
			a.DestructiveHint = mcp.ToBoolPtr(false)
		}
		if h.idempotent {
			a.IdempotentHint = mcp.ToBoolPtr(true)
		}
	}
	if !h.openWorld {
		a.OpenWorldHint = mcp.ToBoolPtr(false)
	}
	return a
}

// Tool is one registered tool: its declaration and its handler.
type Tool struct {
	Tool    mcp.Tool
	Handler server.ToolHandlerFunc
	// Result is the full schema of the tool's structured result, every
	// field described: what docs/tools.md is written from. (The output
	// schema on the wire names only the fields that are always present.)
	Result func() json.RawMessage
}

// spec declares a typed tool.
type spec[In, Out any] struct {
	name, title, description string
	hints                    hints
	nested                   map[string]string // descriptions of nested fields
	// cached: the result depends only on the arguments and the store, so it
	// is reused until the store's next write (get_campaign, list_campaigns).
	cached bool
	// check, when set, checks the arguments as run would and writes
	// nothing, so that arguments the schema refuses are also checked for
	// everything else, and the agent hears of every problem in one round.
	check func(ctx context.Context, in In) error
	// asks, for a tool that may ask the client's user something
	// (elicitation), wraps the typed handler: it sees each call first, and
	// may answer it, ask, or run it.
	asks func(server.ToolHandlerFunc) server.ToolHandlerFunc
	// run does the work and returns the structured result and a one-line
	// summary for clients that only show text.
	run func(ctx context.Context, req mcp.CallToolRequest, in In) (Out, string, error)
}

func (sp spec[In, Out]) build(d deps) Tool {
	log := d.log
	in, out := precomputed(sp.name)
	if in == nil {
		in, out = schemaOf[In](sp.nested), outputSchemaOf[Out]()
	}
	t := mcp.NewToolWithRawSchema(sp.name, sp.description, in)
	t.OutputSchema = mcp.ToolOutputSchema{}
	t.RawOutputSchema = out
	t.Annotations = sp.hints.annotation(sp.title)
	// Compiling a validator costs a millisecond or more; a server that never
	// sees a tool should not pay for it at start-up.
	validator := sync.OnceValue(func() *jsonschema.Schema { return compile(sp.name, in) })
	results := newResultCache()
	props := propertyNames(in)
	h := func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		raw := []byte(req.Params.RawArguments)
		if len(raw) == 0 {
			var err error
			if raw, err = json.Marshal(req.Params.Arguments); err != nil {
				raw = nil
			}
		}
		if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
			raw = []byte("{}")
		}
		// A cached result exists only for arguments that were valid.
		var key string
		var gen uint64
		if sp.cached {
			var ok bool
			if gen, ok = d.sb.Generation(ctx); ok {
				key = string(raw)
				if c, ok := results.Get(key); ok && c.gen == gen {
					res := *c.res
					return &res, nil
				}
			}
		}
		// mcp-go has already decoded the arguments; validate that value
		// rather than parsing a 20 KB email a second time.
		inst := req.Params.Arguments
		if _, ok := inst.(map[string]any); !ok {
			var err error
			if inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(raw)); err != nil {
				return mcp.NewToolResultError(fmt.Sprintf("%s: the arguments are not valid JSON: %v", sp.name, err)), nil
			}
		}
		if err := validator().Validate(inst); err != nil {
			lines := schemaProblems(err, props)
			if sp.check != nil {
				lines = append(lines, sp.otherProblems(ctx, raw, lines)...)
			}
			return mcp.NewToolResultError(explainLines(sp.name, lines)), nil
		}

		var v In
		if err := json.Unmarshal(raw, &v); err != nil {
			return mcp.NewToolResultError(fmt.Sprintf("%s: %s", sp.name, decodeProblem(err))), nil
		}
		outV, summary, err := sp.run(ctx, req, v)
		if err != nil {
			return errorResult(ctx, log, sp.name, err), nil
		}
		data, err := json.Marshal(outV)
		if err != nil {
			return errorResult(ctx, log, sp.name, err), nil
		}
		// Marshalled once: the structured content goes out as these bytes.
		res := &mcp.CallToolResult{StructuredContent: json.RawMessage(data)}
		// The text is the one-line summary: the data is said once, in the
		// structured content.
		res.Content = []mcp.Content{mcp.NewTextContent(summary)}
		if key != "" {
			results.Put(key, cachedResult{gen: gen, res: res})
			cp := *res // the cached one stays untouched
			return &cp, nil
		}
		return res, nil
	}
	if sp.asks != nil {
		return Tool{Tool: t, Handler: sp.asks(h), Result: resultSchemaOf[Out]}
	}
	return Tool{Tool: t, Handler: h, Result: resultSchemaOf[Out]}
}

func compile(name string, schema json.RawMessage) *jsonschema.Schema {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		panic(err)
	}
	url := "mem:///" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		panic(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		panic(fmt.Sprintf("tool %s: input schema does not compile: %v", name, err))
	}
	return s
}

// propertyNames maps a JSON pointer of an object in the schema to its
// property names, for "unknown field" messages. References into $defs are
// followed, recursive ones to a bounded depth.
func propertyNames(schema json.RawMessage) map[string][]string {
	var root map[string]any
	json.Unmarshal(schema, &root)
	defs, _ := root["$defs"].(map[string]any)
	out := map[string][]string{}
	var walk func(node map[string]any, path string, depth int)
	walk = func(node map[string]any, path string, depth int) {
		if depth > 12 {
			return
		}
		if r, ok := node["$ref"].(string); ok {
			if def, ok := defs[strings.TrimPrefix(r, "#/$defs/")].(map[string]any); ok {
				walk(def, path, depth+1)
			}
		}
		if props, ok := node["properties"].(map[string]any); ok {
			names := out[path]
			for k, v := range props {
				if m, ok := v.(map[string]any); ok {
					names = append(names, k)
					walk(m, path+"/"+k, depth+1)
				}
			}
			slices.Sort(names)
			out[path] = slices.Compact(names)
		}
		if items, ok := node["items"].(map[string]any); ok {
			walk(items, path+"/*", depth+1)
		}
	}
	walk(root, "", 0)
	return out
}

// fieldPath renders an instance location as audience.include[0].
func fieldPath(loc []string) string {
	var b strings.Builder
	for _, p := range loc {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func schemaPath(loc []string) string {
	var b strings.Builder
	for _, p := range loc {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("/*")
		} else {
			b.WriteString("/" + p)
		}
	}
	return b.String()
}

func join(field, sub string) string {
	if field == "" {
		return sub
	}
	return field + "." + sub
}

// otherProblems checks arguments the schema refused for everything else a
// write is checked for, as far as they decode, and returns the problems
// on fields the schema errors do not already name.
func (sp spec[In, Out]) otherProblems(ctx context.Context, raw []byte, schemaLines []string) []string {
	var v In
	if json.Unmarshal(raw, &v) != nil {
		return nil // a wrong type somewhere: the schema errors say where
	}
	err := sp.check(ctx, v)
	var ve *sandbox.ValidationError
	var nf *sandbox.NotFoundError
	switch {
	case errors.As(err, &ve):
		named := map[string]bool{}
		for _, l := range schemaLines {
			field, _, _ := strings.Cut(l, ":")
			named[rootField(field)] = true
		}
		var out []string
		for _, p := range ve.Problems {
			if !named[rootField(p.Field)] {
				out = append(out, p.String())
			}
		}
		return out
	case errors.As(err, &nf):
		return []string{nf.Error()}
	}
	return nil
}

// rootField is the top-level argument a field path is in.
func rootField(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

// schemaProblems lists the schema's complaints as "field: problem" lines.
func schemaProblems(err error, props map[string][]string) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{fmt.Sprintf("invalid arguments: %v", err)}
	}
	var lines []string
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				leaves(c)
			}
			return
		}
		field := fieldPath(e.InstanceLocation)
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				lines = append(lines, fmt.Sprintf("%s: is required", join(field, m)))
			}
		case *kind.AdditionalProperties:
			known := props[schemaPath(e.InstanceLocation)]
			for _, p := range k.Properties {
				name := join(field, p)
				if p == "" {
					name = join(field, `""`)
				}
				lines = append(lines, fmt.Sprintf("%s: is not a field here — the fields are %s", name, strings.Join(known, ", ")))
			}
		case *kind.Not:
			// The one "not" in the schemas: a cell is a block without columns.
			lines = append(lines, fmt.Sprintf("%s: columns cannot be nested inside a column", join(field, "columns")))
		case *kind.Type:
			lines = append(lines, fmt.Sprintf("%s: must be %s, not %s", orArgs(field), strings.Join(k.Want, " or "), k.Got))
		case *kind.Enum:
			var want []string
			for _, w := range k.Want {
				want = append(want, fmt.Sprint(w))
			}
			lines = append(lines, fmt.Sprintf("%s: %v is not allowed — use one of %s", orArgs(field), k.Got, strings.Join(want, ", ")))
		case *kind.MinLength:
			if k.Want == 1 {
				lines = append(lines, fmt.Sprintf("%s: must not be empty", orArgs(field)))
			} else {
				lines = append(lines, fmt.Sprintf("%s: must be at least %d characters", orArgs(field), k.Want))
			}
		case *kind.MaxLength:
			lines = append(lines, fmt.Sprintf("%s: is %d characters long; the limit is %d", orArgs(field), k.Got, k.Want))
		case *kind.MinItems:
			lines = append(lines, fmt.Sprintf("%s: needs at least %d items, has %d", orArgs(field), k.Want, k.Got))
		case *kind.MaxItems:
			lines = append(lines, fmt.Sprintf("%s: has %d items; the limit is %d", orArgs(field), k.Got, k.Want))
		case *kind.Minimum:
			lines = append(lines, fmt.Sprintf("%s: must be at least %s", orArgs(field), ratString(k.Want)))
		case *kind.Maximum:
			lines = append(lines, fmt.Sprintf("%s: must be at most %s", orArgs(field), ratString(k.Want)))
		case *kind.Pattern:
			lines = append(lines, fmt.Sprintf("%s: %q does not have the expected form (%s)", orArgs(field), k.Got, k.Want))
		case *kind.Format:
			lines = append(lines, fmt.Sprintf("%s: %v is not a valid %s", orArgs(field), k.Got, k.Want))
		default:
			lines = append(lines, fmt.Sprintf("%s: %s", orArgs(field), e.ErrorKind.LocalizedString(nil)))
		}
	}
	leaves(ve)
	slices.Sort(lines)
	return slices.Compact(lines)
}

// explainLines words problems with a tool's arguments as one message.
func explainLines(tool string, lines []string) string {
	if len(lines) == 1 {
		return fmt.Sprintf("%s was not run: %s. Fix the arguments and call it again.", tool, lines[0])
	}
	listed := lines[:min(len(lines), sandbox.ListedProblems)]
	more := ""
	if n := len(lines) - len(listed); n > 0 {
		more = fmt.Sprintf("\n- and %d more", n)
	}
	return fmt.Sprintf("%s was not run; %d problems with the arguments:\n- %s%s\nFix them and call it again.", tool, len(lines), strings.Join(listed, "\n- "), more)
}

// ratString prints a schema bound (a big.Rat) as the number it is.
func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(3)
}

func orArgs(field string) string {
	if field == "" {
		return "the arguments"
	}
	return field
}

func decodeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: must be %s, not %s", te.Field, te.Type, te.Value)
	}
	return "the arguments could not be read: " + err.Error()
}

// errorResult turns an error into a tool error the agent can act on.
// Expected failures (bad input, unknown ids, refused promotions) read as
// sentences; anything else is logged and reported as an internal error.
func errorResult(ctx context.Context, log *slog.Logger, tool string, err error) *mcp.CallToolResult {
	var ve *sandbox.ValidationError
	var nf *sandbox.NotFoundError
	var rf *sandbox.RefusedError
	var pe *sandbox.PromotionError
	switch {
	case errors.As(err, &ve), errors.As(err, &nf), errors.As(err, &rf):
		return mcp.NewToolResultError(err.Error())
	case errors.As(err, &pe):
		// Before the cancellation case: a step the platform timed out wraps
		// context.DeadlineExceeded, and the caller did not cancel anything.
		// The sandbox has logged it.
		return promotionErrorResult(pe)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return mcp.NewToolResultError(tool + " was cancelled before it finished: " + err.Error())
	}
	log.ErrorContext(ctx, "tool failed", "tool", tool, "err", err)
	return mcp.NewToolResultError(fmt.Sprintf("%s failed: %v", tool, err))
}

// promotionErrorResult is a failed promotion as a tool error: the message,
// and the same in structured form (class, retry_after_seconds, each step's
// state in the journal) for agents that branch on it. Error results need
// not match the tool's output schema.
func promotionErrorResult(pe *sandbox.PromotionError) *mcp.CallToolResult {
	v := struct {
		PromotionError sandbox.PromotionFailure `json:"promotion_error"`
	}{pe.Failure()}
	data, err := json.Marshal(v)
	if err != nil {
		return mcp.NewToolResultError(pe.Error())
	}
	return &mcp.CallToolResult{IsError: true, StructuredContent: json.RawMessage(data),
		Content: []mcp.Content{mcp.NewTextContent(pe.Error() + "\n\n" + string(data))}}
}

// recovery turns a panic in a tool into a tool error and a logged stack,
// so one bad request never takes the server down or breaks the protocol.
func recovery(log *slog.Logger) server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
			defer func() {
				if r := recover(); r != nil {
					log.ErrorContext(ctx, "tool panicked", "tool", req.Params.Name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					res, err = mcp.NewToolResultError(fmt.Sprintf("%s hit an internal error and did nothing further; the server logged the details. Please report it.", req.Params.Name)), nil
				}
			}()
			return next(ctx, req)
		}
	}
}

// actor names the agent session for the audit log: the access token it
// authenticated with, else the client's name.
func actor(ctx context.Context) string {
	if p := accesstoken.FromContext(ctx); p != nil {
		return p.Actor()
	}
	name := ""
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.ClientInfo != nil {
		name = info.ClientInfo.Name
	} else if s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		name = s.GetClientInfo().Name
	}
	if name == "" {
		return "agent"
	}
	return "agent:" + name
}

type cachedResult struct {
	gen uint64
	res *mcp.CallToolResult
}

// resultCacheBytes bounds what one cached tool keeps of its answers.
const resultCacheBytes = 2 << 20

func newResultCache() *lru.Cache[string, cachedResult] {
	return lru.New(resultCacheBytes, func(k string, v cachedResult) int64 {
		n := len(k)
		if raw, ok := v.res.StructuredContent.(json.RawMessage); ok {
			n += len(raw)
		}
		for _, c := range v.res.Content {
			if tc, ok := c.(mcp.TextContent); ok {
				n += len(tc.Text)
			}
		}
		return int64(n)
	})
}
