package googleadstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Wire shapes (proto3 JSON: lowerCamelCase, int64 as strings or numbers).

type mutateRequest struct {
	MutateOperations    []mutateOperation `json:"mutateOperations"`
	Operations          []operation       `json:"operations"`
	PartialFailure      bool              `json:"partialFailure"`
	ValidateOnly        bool              `json:"validateOnly"`
	ResponseContentType string            `json:"responseContentType"`
}

type mutateOperation struct {
	CampaignBudgetOperation    *operation `json:"campaignBudgetOperation"`
	CampaignOperation          *operation `json:"campaignOperation"`
	AdGroupOperation           *operation `json:"adGroupOperation"`
	AdGroupAdOperation         *operation `json:"adGroupAdOperation"`
	AdGroupCriterionOperation  *operation `json:"adGroupCriterionOperation"`
	CampaignCriterionOperation *operation `json:"campaignCriterionOperation"`
}

type operation struct {
	Create     json.RawMessage `json:"create"`
	Update     json.RawMessage `json:"update"`
	Remove     string          `json:"remove"`
	UpdateMask string          `json:"updateMask"`
}

// int64s accepts a JSON string or number.
type int64s struct {
	set bool
	v   int64
}

func (n *int64s) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("invalid int64 %s", b)
	}
	n.set, n.v = true, v
	return nil
}

type budgetJSON struct {
	ResourceName      string `json:"resourceName"`
	Name              *string
	AmountMicros      int64s  `json:"amountMicros"`
	TotalAmountMicros int64s  `json:"totalAmountMicros"`
	Period            *string `json:"period"`
	DeliveryMethod    *string `json:"deliveryMethod"`
	ExplicitlyShared  *bool   `json:"explicitlyShared"`
	Status            *string `json:"status"`
}

type campaignJSON struct {
	ResourceName           string          `json:"resourceName"`
	Name                   *string         `json:"name"`
	Status                 *string         `json:"status"`
	AdvertisingChannelType *string         `json:"advertisingChannelType"`
	CampaignBudget         *string         `json:"campaignBudget"`
	ManualCpc              json.RawMessage `json:"manualCpc"`
	TargetSpend            *struct {
		CpcBidCeilingMicros int64s `json:"cpcBidCeilingMicros"`
	} `json:"targetSpend"`
	MaximizeConversions            json.RawMessage `json:"maximizeConversions"`
	NetworkSettings                map[string]bool `json:"networkSettings"`
	ContainsEuPoliticalAdvertising *string         `json:"containsEuPoliticalAdvertising"`
	StartDateTime                  *string         `json:"startDateTime"`
	EndDateTime                    *string         `json:"endDateTime"`
}

type adGroupJSON struct {
	ResourceName string  `json:"resourceName"`
	Name         *string `json:"name"`
	Campaign     *string `json:"campaign"`
	Status       *string `json:"status"`
	Type         *string `json:"type"`
	CpcBidMicros int64s  `json:"cpcBidMicros"`
}

type textAsset struct {
	Text        string `json:"text"`
	PinnedField string `json:"pinnedField,omitempty"`
}

type adGroupAdJSON struct {
	ResourceName string  `json:"resourceName"`
	AdGroup      *string `json:"adGroup"`
	Status       *string `json:"status"`
	Ad           *struct {
		FinalUrls          []string `json:"finalUrls"`
		ResponsiveSearchAd *struct {
			Headlines    []textAsset `json:"headlines"`
			Descriptions []textAsset `json:"descriptions"`
			Path1        string      `json:"path1"`
			Path2        string      `json:"path2"`
		} `json:"responsiveSearchAd"`
	} `json:"ad"`
}

type criterionJSON struct {
	ResourceName string  `json:"resourceName"`
	AdGroup      *string `json:"adGroup"`
	Status       *string `json:"status"`
	Negative     *bool   `json:"negative"`
	Keyword      *struct {
		Text      string `json:"text"`
		MatchType string `json:"matchType"`
	} `json:"keyword"`
	Location *struct {
		GeoTargetConstant string `json:"geoTargetConstant"`
	} `json:"location"`
	Language *struct {
		LanguageConstant string `json:"languageConstant"`
	} `json:"language"`
}

type campaignCriterionJSON struct {
	ResourceName string          `json:"resourceName"`
	Campaign     *string         `json:"campaign"`
	Status       *string         `json:"status"`
	Negative     *bool           `json:"negative"`
	Keyword      json.RawMessage `json:"keyword"`
	Location     *struct {
		GeoTargetConstant string `json:"geoTargetConstant"`
	} `json:"location"`
	Language *struct {
		LanguageConstant string `json:"languageConstant"`
	} `json:"language"`
}

// Resource kinds: the operation field, the per-resource path, the
// collection in resource names, the result field.
type kind struct {
	op, path, coll, result, field string
}

var (
	kBudget    = kind{"campaignBudgetOperation", "campaignBudgets:mutate", "campaignBudgets", "campaignBudgetResult", "campaign_budget_operation"}
	kCampaign  = kind{"campaignOperation", "campaigns:mutate", "campaigns", "campaignResult", "campaign_operation"}
	kAdGroup   = kind{"adGroupOperation", "adGroups:mutate", "adGroups", "adGroupResult", "ad_group_operation"}
	kAd        = kind{"adGroupAdOperation", "adGroupAds:mutate", "adGroupAds", "adGroupAdResult", "ad_group_ad_operation"}
	kCriterion = kind{"adGroupCriterionOperation", "adGroupCriteria:mutate", "adGroupCriteria", "adGroupCriterionResult", "ad_group_criterion_operation"}
	kCampCrit  = kind{"campaignCriterionOperation", "campaignCriteria:mutate", "campaignCriteria", "campaignCriterionResult", "campaign_criterion_operation"}
	kinds      = []kind{kBudget, kCampaign, kAdGroup, kAd, kCriterion, kCampCrit}
)

// state is everything a mutate may change (the Server's own, embedded),
// copied so that a request is applied all or nothing.
type state struct {
	nextID    int64
	budgets   map[int64]*Budget
	campaigns map[int64]*Campaign
	groups    map[int64]*AdGroup
	ads       map[string]*AdGroupAd
	criteria  map[string]*Criterion
	campCrit  map[string]*CampaignCriterion
}

func cloneMap[K comparable, V any](m map[K]*V) map[K]*V {
	out := make(map[K]*V, len(m))
	for k, v := range m {
		cp := *v
		out[k] = &cp
	}
	return out
}

func (s *Server) snapshot() *state { return s.state.clone() }

func (st *state) clone() *state {
	return &state{st.nextID, cloneMap(st.budgets), cloneMap(st.campaigns), cloneMap(st.groups), cloneMap(st.ads), cloneMap(st.criteria), cloneMap(st.campCrit)}
}

func (s *Server) commit(st *state) {
	s.state = *st
}

// txn is one request being applied.
type txn struct {
	st       *state
	customer string
	temps    map[string]string // temp resource name → real
	failed   map[string]bool   // temp names whose create failed
	today    string
}

// opErr is one error of one operation; path is below the operation.
type opErr struct {
	family, code, message string
	path                  []any
}

func errAt(family, code, message string, path ...any) *opErr {
	return &opErr{family, code, message, path}
}

type parsedOp struct {
	k  kind
	op operation
}

func (s *Server) serveMutate(w http.ResponseWriter, r *http.Request, body []byte, path string) {
	var req mutateRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error(), nil)
		return
	}
	var ops []parsedOp
	prefix := "operations"
	if path == "googleAds:mutate" {
		prefix = "mutate_operations"
		for i, mo := range req.MutateOperations {
			var set []parsedOp
			for _, p := range []struct {
				k  kind
				op *operation
			}{{kBudget, mo.CampaignBudgetOperation}, {kCampaign, mo.CampaignOperation}, {kAdGroup, mo.AdGroupOperation}, {kAd, mo.AdGroupAdOperation}, {kCriterion, mo.AdGroupCriterionOperation}, {kCampCrit, mo.CampaignCriterionOperation}} {
				if p.op != nil {
					set = append(set, parsedOp{p.k, *p.op})
				}
			}
			if len(set) != 1 {
				f := newFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
				f.add("requestError", "REQUIRED_FIELD_MISSING", "A mutate operation must name exactly one operation this fake serves (campaign budget, campaign, campaign criterion, ad group, ad group ad, ad group criterion).", fp(prefix, i))
				f.write(w)
				return
			}
			ops = append(ops, set[0])
		}
	} else {
		for _, k := range kinds {
			if k.path == path {
				for _, o := range req.Operations {
					ops = append(ops, parsedOp{k, o})
				}
			}
		}
	}
	s.mu.Lock()
	s.mutates++
	s.operations += len(ops)
	if req.ValidateOnly {
		s.validateOnly++
	}
	s.mu.Unlock()
	if len(ops) == 0 {
		f := newFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
		f.add("fieldError", "REQUIRED_NONEMPTY_LIST", "The field's value is required to be a non-empty list.", fp(prefix))
		f.write(w)
		return
	}
	if len(ops) > MaxOperations {
		f := newFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
		f.add("requestError", "TOO_MANY_MUTATE_OPERATIONS", fmt.Sprintf("Too many mutate operations (%d); at most %d per request.", len(ops), MaxOperations), fp(prefix))
		f.write(w)
		return
	}
	held := false
	if !req.ValidateOnly {
		s.mu.Lock()
		hold := s.hold
		if hold != nil && s.holdArmed {
			s.holdArmed, held = false, true
			s.holding++
		}
		s.mu.Unlock()
		if held {
			<-hold
			// A held mutate stands for one whose client died while
			// Google went on: give the server a moment to notice a
			// closed connection, so a late commit is counted as late
			// however busy the machine is.
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			s.mu.Lock()
			s.holding--
			s.mu.Unlock()
		}
	}
	late := func(ok bool) {
		if held && r.Context().Err() != nil {
			if ok {
				s.committedLate++
			} else {
				s.refusedLate++
			}
		}
	}

	s.mu.Lock()
	tx := &txn{st: s.snapshot(), customer: DefaultCustomerID, temps: map[string]string{}, failed: map[string]bool{},
		today: time.Now().UTC().Format(time.DateOnly)}
	results := make([]string, len(ops))
	var errs []*opErr
	var at []int
	var badEnum string
	for i, o := range ops {
		var before *state
		if req.PartialFailure {
			before = tx.st.clone()
		}
		name, oe, enumMsg := tx.apply(o.k, o.op)
		if enumMsg != "" {
			badEnum = fmt.Sprintf("Invalid value at '%s[%d].%s' %s", prefix, i, o.k.field, enumMsg)
			break
		}
		if oe != nil {
			errs = append(errs, oe)
			at = append(at, i)
			if before != nil {
				tx.st = before
			}
			continue
		}
		results[i] = name
	}
	if badEnum != "" {
		s.mu.Unlock()
		writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", badEnum, []any{map[string]any{
			"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": []any{map[string]any{"description": badEnum}}}})
		return
	}
	failureOf := func() *failure {
		f := newFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
		for j, e := range errs {
			p := []any{prefix, at[j]}
			if prefix == "mutate_operations" {
				p = append(p, ops[at[j]].k.field)
			}
			f.add(e.family, e.code, e.message, fp(append(p, e.path...)...))
		}
		return f
	}
	if len(errs) > 0 && !req.PartialFailure {
		late(false)
		s.mu.Unlock()
		failureOf().write(w)
		return
	}
	if !req.ValidateOnly {
		s.commit(tx.st)
		late(true)
	}
	s.mu.Unlock()
	resp := map[string]any{}
	if req.ValidateOnly && len(errs) == 0 {
		writeJSON(w, resp)
		return
	}
	if len(errs) > 0 {
		f := failureOf()
		resp["partialFailureError"] = map[string]any{"code": 3, "message": f.message, "details": f.details()}
	}
	if !req.ValidateOnly {
		var list []any
		for i, name := range results {
			switch {
			case name == "":
				list = append(list, map[string]any{})
			case prefix == "mutate_operations":
				list = append(list, map[string]any{ops[i].k.result: map[string]any{"resourceName": name}})
			default:
				list = append(list, map[string]any{"resourceName": name})
			}
		}
		if prefix == "mutate_operations" {
			resp["mutateOperationResponses"] = list
		} else {
			resp["results"] = list
		}
	}
	writeJSON(w, resp)
}

// apply runs one operation on the transaction's state. enumMsg is set when
// the JSON names an enum value that does not exist (Google refuses the
// whole request at parsing).
func (tx *txn) apply(k kind, o operation) (name string, oe *opErr, enumMsg string) {
	n := 0
	if len(o.Create) > 0 && string(o.Create) != "null" {
		n++
	}
	if len(o.Update) > 0 && string(o.Update) != "null" {
		n++
	}
	if o.Remove != "" {
		n++
	}
	if n != 1 {
		return "", errAt("requestError", "REQUIRED_FIELD_MISSING", "An operation needs exactly one of create, update, remove."), ""
	}
	switch k {
	case kBudget:
		return tx.budget(o)
	case kCampaign:
		return tx.campaign(o)
	case kAdGroup:
		return tx.adGroup(o)
	case kAd:
		return tx.adGroupAd(o)
	case kCampCrit:
		return tx.campaignCriterion(o)
	default:
		return tx.criterion(o)
	}
}

var (
	statusEnum   = map[string]bool{"ENABLED": true, "PAUSED": true, "REMOVED": true, "UNSPECIFIED": true, "UNKNOWN": true}
	channelEnum  = map[string]bool{"SEARCH": true, "DISPLAY": true, "SHOPPING": true, "HOTEL": true, "VIDEO": true, "MULTI_CHANNEL": true, "LOCAL": true, "SMART": true, "PERFORMANCE_MAX": true, "LOCAL_SERVICES": true, "TRAVEL": true, "DEMAND_GEN": true, "UNSPECIFIED": true, "UNKNOWN": true}
	periodEnum   = map[string]bool{"DAILY": true, "CUSTOM_PERIOD": true, "UNSPECIFIED": true, "UNKNOWN": true}
	deliveryEnum = map[string]bool{"STANDARD": true, "ACCELERATED": true, "UNSPECIFIED": true, "UNKNOWN": true}
	euEnum       = map[string]bool{"CONTAINS_EU_POLITICAL_ADVERTISING": true, "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING": true, "UNSPECIFIED": true, "UNKNOWN": true}
	groupType    = map[string]bool{"SEARCH_STANDARD": true, "DISPLAY_STANDARD": true, "SHOPPING_PRODUCT_ADS": true, "VIDEO_RESPONSIVE": true, "UNSPECIFIED": true, "UNKNOWN": true}
	matchEnum    = map[string]bool{"EXACT": true, "PHRASE": true, "BROAD": true, "UNSPECIFIED": true, "UNKNOWN": true}
)

func badEnum(field, enumType, v string) string {
	return fmt.Sprintf("(type.googleapis.com/google.ads.googleads.v25.enums.%s), %q at %s", enumType, v, field)
}

// checkEnum: "" when fine; enumMsg when the value does not exist; opErr
// when it exists but may not be set.
func checkEnum(v *string, set map[string]bool, field, enumType string) (string, *opErr) {
	if v == nil {
		return "", nil
	}
	if !set[*v] {
		return badEnum(field, enumType, *v), nil
	}
	if *v == "UNSPECIFIED" || *v == "UNKNOWN" {
		return "", errAt("enumError", "ENUM_VALUE_NOT_PERMITTED", "The enum value is not permitted.", "create", field)
	}
	return "", nil
}

var nameRE = regexp.MustCompile(`^customers/(\d+)/([A-Za-z]+)/(-?\d+)(?:~(-?\d+))?$`)

// newName allocates the real name of a create, recording its temp name.
func (tx *txn) newName(k kind, given string, parts ...int64) (string, *opErr) {
	ids := make([]string, len(parts))
	for i, p := range parts {
		ids[i] = fmtID(p)
	}
	real := "customers/" + tx.customer + "/" + k.coll + "/" + strings.Join(ids, "~")
	if given == "" {
		return real, nil
	}
	m := nameRE.FindStringSubmatch(given)
	if m == nil || m[2] != k.coll || m[1] != tx.customer {
		return "", errAt("fieldError", "INVALID_VALUE", "The resource name is malformed: "+given, "create", "resource_name")
	}
	last := m[3]
	if m[4] != "" {
		last = m[4]
	}
	if !strings.HasPrefix(last, "-") {
		return "", errAt("newResourceCreationError", "CANNOT_SET_ID_FOR_CREATE", "Do not set the id field while creating new resources.", "create", "resource_name")
	}
	if _, dup := tx.temps[given]; dup {
		return "", errAt("newResourceCreationError", "DUPLICATE_TEMP_IDS", "Creating more than one resource with the same temp ID is not allowed.", "create", "resource_name")
	}
	tx.temps[given] = real
	return real, nil
}

// ref resolves a reference (a real or temp resource name) to an id of coll.
func (tx *txn) ref(ref, coll, field string) (int64, *opErr, bool) {
	if real, ok := tx.temps[ref]; ok {
		ref = real
	} else if tx.failed[ref] {
		return 0, nil, false // the create it names failed: reported there
	}
	m := nameRE.FindStringSubmatch(ref)
	if m == nil || m[2] != coll || m[1] != tx.customer || strings.HasPrefix(m[3], "-") {
		return 0, errAt("mutateError", "RESOURCE_NOT_FOUND", "The resource was not found: "+ref+" (a temp name must be created earlier in the same request).", "create", field), true
	}
	id, _ := strconv.ParseInt(m[3], 10, 64)
	return id, nil, true
}

// target resolves the resource name of an update or remove.
func (tx *txn) target(k kind, name string) (a, b int64, ok bool) {
	if real, found := tx.temps[name]; found {
		name = real
	}
	m := nameRE.FindStringSubmatch(name)
	if m == nil || m[2] != k.coll || m[1] != tx.customer {
		return 0, 0, false
	}
	a, _ = strconv.ParseInt(m[3], 10, 64)
	if m[4] != "" {
		b, _ = strconv.ParseInt(m[4], 10, 64)
	} else if k == kAd || k == kCriterion || k == kCampCrit {
		return 0, 0, false
	}
	return a, b, true
}

func (tx *txn) rn(k kind, ids ...int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmtID(id)
	}
	return "customers/" + tx.customer + "/" + k.coll + "/" + strings.Join(parts, "~")
}

func (tx *txn) id() int64 { tx.st.nextID++; return tx.st.nextID }

func mask(m string) map[string]bool {
	out := map[string]bool{}
	for _, f := range strings.Split(m, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out[f] = true
		}
	}
	return out
}

func notFound(op, name string) *opErr {
	return errAt("mutateError", "RESOURCE_NOT_FOUND", "The resource was not found: "+name, op)
}

func badName(s string) bool { return strings.ContainsAny(s, "\x00\r\n") }

// minimum currency unit: 0.01 in micros (the fake's currencies have cents).
const minUnit = 10000

func (tx *txn) markFailed(given string) {
	if given != "" {
		tx.failed[given] = true
	}
}

// decode reads the create or update body of o into in and says which it
// was. enumMsg is set when the body does not parse: Google refuses the
// whole request, as for an unknown enum value.
func decode(o operation, in any, typ string) (op, enumMsg string) {
	raw, op := o.Create, "create"
	if len(o.Update) > 0 {
		raw, op = o.Update, "update"
	}
	if err := json.Unmarshal(raw, in); err != nil {
		return op, "(" + typ + "): " + err.Error()
	}
	return op, ""
}

// enum is one enum field of a body, for checkEnums.
type enum struct {
	v             *string
	set           map[string]bool
	field, enumTy string
}

// checkEnums is checkEnum over several fields, stopping at the first
// that is refused.
func checkEnums(es ...enum) (string, *opErr) {
	for _, e := range es {
		if msg, oe := checkEnum(e.v, e.set, e.field, e.enumTy); msg != "" || oe != nil {
			return msg, oe
		}
	}
	return "", nil
}

// updatedStatus is the status an update mask sets: REMOVED is set with a
// remove operation only.
func updatedStatus(v *string) (string, *opErr) {
	st := deref(v)
	if st == "REMOVED" || st == "" {
		return "", errAt("enumError", "ENUM_VALUE_NOT_PERMITTED", "Set REMOVED with a remove operation.", "update", "status")
	}
	return st, nil
}

// required is ref for a reference a create must carry.
func (tx *txn) required(ref *string, coll, field string) (int64, *opErr, bool) {
	if ref == nil {
		return 0, errAt("fieldError", "REQUIRED", field+" is required.", "create", field), true
	}
	return tx.ref(*ref, coll, field)
}

// liveGroup resolves the ad group an ad or a criterion is created in,
// which must not be removed. The id is 0 with no error when the reference
// names a create that failed (reported there).
func (tx *txn) liveGroup(ref *string, family, code string) (int64, *opErr) {
	gid, oe, ok := tx.required(ref, "adGroups", "ad_group")
	if !ok || oe != nil {
		return 0, oe
	}
	if g := tx.st.groups[gid]; g == nil || g.Status == "REMOVED" {
		return 0, errAt(family, code, "The ad group does not exist or is removed.", "create", "ad_group")
	}
	return gid, nil
}

// store gives a create its id and real name (under parents), and keeps the
// resource with put once the name is good.
func (tx *txn) store(k kind, given string, put func(id int64), parents ...int64) (string, *opErr) {
	id := tx.id()
	name, oe := tx.newName(k, given, append(parents, id)...)
	if oe != nil {
		return "", oe
	}
	put(id)
	return name, nil
}

// ---- campaign budgets ----

func (tx *txn) budget(o operation) (string, *opErr, string) {
	if o.Remove != "" {
		id, _, ok := tx.target(kBudget, o.Remove)
		b := tx.st.budgets[id]
		if !ok || b == nil {
			return "", notFound("remove", o.Remove), ""
		}
		for _, c := range tx.st.campaigns {
			if c.Budget == id && c.Status != "REMOVED" {
				return "", errAt("campaignBudgetError", "CAMPAIGN_BUDGET_IN_USE", "The campaign budget is in use by a campaign that is not removed.", "remove"), ""
			}
		}
		b.Status = "REMOVED"
		return o.Remove, nil, ""
	}
	var in budgetJSON
	op, msg := decode(o, &in, "CampaignBudget")
	if msg != "" {
		return "", nil, msg
	}
	if msg, oe := checkEnums(enum{in.Period, periodEnum, "period", "BudgetPeriodEnum.BudgetPeriod"}, enum{in.DeliveryMethod, deliveryEnum, "delivery_method", "BudgetDeliveryMethodEnum.BudgetDeliveryMethod"}); msg != "" || oe != nil {
		tx.markFailed(in.ResourceName)
		return "", oe, msg
	}
	if in.Status != nil {
		return "", errAt("fieldError", "IMMUTABLE_FIELD", "status is output only.", op, "status"), ""
	}
	if op == "update" {
		id, _, ok := tx.target(kBudget, in.ResourceName)
		b := tx.st.budgets[id]
		if !ok || b == nil {
			return "", notFound("update", in.ResourceName), ""
		}
		m := mask(o.UpdateMask)
		if m["period"] {
			return "", errAt("fieldError", "IMMUTABLE_FIELD", "period is immutable.", "update", "period"), ""
		}
		if m["name"] && in.Name != nil {
			if oe := tx.budgetName(*in.Name, id, "update"); oe != nil {
				return "", oe, ""
			}
			b.Name = *in.Name
		}
		if m["amount_micros"] {
			if b.Period == "CUSTOM_PERIOD" {
				return "", errAt("campaignBudgetError", "BUDGET_AMOUNT_MUST_BE_UNSET_FOR_CUSTOM_BUDGET_PERIOD", "Budget amount must be unset when BudgetPeriod is CUSTOM.", "update", "amount_micros"), ""
			}
			if oe := money(in.AmountMicros.v, "update", "amount_micros"); oe != nil {
				return "", oe, ""
			}
			b.AmountMicros = in.AmountMicros.v
		}
		if m["total_amount_micros"] {
			if b.Period != "CUSTOM_PERIOD" {
				return "", errAt("campaignBudgetError", "TOTAL_BUDGET_AMOUNT_MUST_BE_UNSET_FOR_BUDGET_PERIOD_DAILY", "The total budget amount must be unset for a DAILY budget.", "update", "total_amount_micros"), ""
			}
			if oe := money(in.TotalAmountMicros.v, "update", "total_amount_micros"); oe != nil {
				return "", oe, ""
			}
			b.TotalAmountMicros = in.TotalAmountMicros.v
		}
		return tx.rn(kBudget, id), nil, ""
	}
	b := &Budget{Period: "DAILY", DeliveryMethod: "STANDARD", ExplicitlyShared: true, Status: "ENABLED"}
	if in.Period != nil {
		b.Period = *in.Period
	}
	if in.DeliveryMethod != nil {
		b.DeliveryMethod = *in.DeliveryMethod
	}
	if in.ExplicitlyShared != nil {
		b.ExplicitlyShared = *in.ExplicitlyShared
	}
	fail := func(oe *opErr) (string, *opErr, string) { tx.markFailed(in.ResourceName); return "", oe, "" }
	if in.Name != nil {
		b.Name = *in.Name
	}
	if b.ExplicitlyShared && b.Name == "" {
		return fail(errAt("fieldError", "REQUIRED", "The name of an explicitly shared budget is required.", "create", "name"))
	}
	if b.Name != "" {
		if oe := tx.budgetName(b.Name, 0, "create"); oe != nil {
			return fail(oe)
		}
	}
	switch b.Period {
	case "DAILY":
		if in.TotalAmountMicros.set {
			return fail(errAt("campaignBudgetError", "TOTAL_BUDGET_AMOUNT_MUST_BE_UNSET_FOR_BUDGET_PERIOD_DAILY", "The total budget amount must be unset for a DAILY budget.", "create", "total_amount_micros"))
		}
		if !in.AmountMicros.set {
			return fail(errAt("fieldError", "REQUIRED", "amount_micros is required for a DAILY budget.", "create", "amount_micros"))
		}
		if oe := money(in.AmountMicros.v, "create", "amount_micros"); oe != nil {
			return fail(oe)
		}
		b.AmountMicros = in.AmountMicros.v
	case "CUSTOM_PERIOD":
		if in.AmountMicros.set {
			return fail(errAt("campaignBudgetError", "BUDGET_AMOUNT_MUST_BE_UNSET_FOR_CUSTOM_BUDGET_PERIOD", "Budget amount must be unset when BudgetPeriod is CUSTOM.", "create", "amount_micros"))
		}
		if !in.TotalAmountMicros.set {
			return fail(errAt("fieldError", "REQUIRED", "total_amount_micros is required for a CUSTOM_PERIOD budget.", "create", "total_amount_micros"))
		}
		if oe := money(in.TotalAmountMicros.v, "create", "total_amount_micros"); oe != nil {
			return fail(oe)
		}
		b.TotalAmountMicros = in.TotalAmountMicros.v
	}
	name, oe := tx.store(kBudget, in.ResourceName, func(id int64) { b.ID = id; tx.st.budgets[id] = b })
	if oe != nil {
		return fail(oe)
	}
	return name, nil, ""
}

func money(v int64, op, field string) *opErr {
	switch {
	case v < 0:
		return errAt("campaignBudgetError", "NEGATIVE_MONEY_AMOUNT", "The amount is negative.", op, field)
	case v == 0:
		return errAt("campaignBudgetError", "MONEY_AMOUNT_LESS_THAN_CURRENCY_MINIMUM_CPC", "The amount is below the currency's minimum.", op, field)
	case v%minUnit != 0:
		return errAt("campaignBudgetError", "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT", "The amount is not a multiple of the currency's minimum unit.", op, field)
	}
	return nil
}

func (tx *txn) budgetName(name string, self int64, op string) *opErr {
	if len(name) < 1 || len(name) > 255 {
		return errAt("stringLengthError", "TOO_LONG", "A budget name is 1 to 255 bytes.", op, "name")
	}
	if badName(name) {
		return errAt("campaignBudgetError", "INVALID_NAME", "The name contains NUL, LF or CR.", op, "name")
	}
	for id, b := range tx.st.budgets {
		if id != self && b.Name == name && b.Status != "REMOVED" {
			return errAt("campaignBudgetError", "DUPLICATE_NAME", "A campaign budget with this name already exists.", op, "name")
		}
	}
	return nil
}

// ---- campaigns ----

var dateTimeRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}|\d{8}) (\d{2}:\d{2}:\d{2})$`)

// day reads a start or end date time as YYYY-MM-DD.
func day(v string) (string, bool) {
	m := dateTimeRE.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	d := m[1]
	if len(d) == 8 {
		d = d[:4] + "-" + d[4:6] + "-" + d[6:]
	}
	if _, err := time.Parse(time.DateOnly, d); err != nil {
		return "", false
	}
	return d, true
}

func (tx *txn) campaignName(name string, self int64, op string) *opErr {
	switch {
	case name == "":
		return errAt("fieldError", "REQUIRED", "The campaign name is required.", op, "name")
	case utf8.RuneCountInString(name) > 255:
		return errAt("stringLengthError", "TOO_LONG", "A campaign name is at most 255 characters.", op, "name")
	case badName(name):
		return errAt("campaignError", "INVALID_CAMPAIGN_NAME", "The campaign name contains NUL, LF or CR.", op, "name")
	}
	for id, c := range tx.st.campaigns {
		if id != self && c.Name == name && c.Status != "REMOVED" {
			return errAt("campaignError", "DUPLICATE_CAMPAIGN_NAME", "The name is already assigned to another active or paused campaign.", op, "name")
		}
	}
	return nil
}

func (tx *txn) campaign(o operation) (string, *opErr, string) {
	if o.Remove != "" {
		id, _, ok := tx.target(kCampaign, o.Remove)
		c := tx.st.campaigns[id]
		if !ok || c == nil {
			return "", notFound("remove", o.Remove), ""
		}
		if c.Status == "REMOVED" {
			return "", errAt("mutateError", "MUTATE_NOT_ALLOWED", "The campaign is removed already.", "remove"), ""
		}
		c.Status = "REMOVED"
		c.StatusUpdates++
		if b := tx.st.budgets[c.Budget]; b != nil && !b.ExplicitlyShared {
			b.Status = "REMOVED" // a non-shared budget follows its campaign
		}
		return tx.rn(kCampaign, id), nil, ""
	}
	var in campaignJSON
	op, msg := decode(o, &in, "Campaign")
	if msg != "" {
		return "", nil, msg
	}
	if msg, oe := checkEnums(enum{in.Status, statusEnum, "status", "CampaignStatusEnum.CampaignStatus"},
		enum{in.AdvertisingChannelType, channelEnum, "advertising_channel_type", "AdvertisingChannelTypeEnum.AdvertisingChannelType"},
		enum{in.ContainsEuPoliticalAdvertising, euEnum, "contains_eu_political_advertising", "EuPoliticalAdvertisingStatusEnum.EuPoliticalAdvertisingStatus"}); msg != "" || oe != nil {
		tx.markFailed(in.ResourceName)
		return "", oe, msg
	}
	if op == "update" {
		id, _, ok := tx.target(kCampaign, in.ResourceName)
		c := tx.st.campaigns[id]
		if !ok || c == nil {
			return "", notFound("update", in.ResourceName), ""
		}
		if c.Status == "REMOVED" {
			return "", errAt("mutateError", "MUTATE_NOT_ALLOWED", "A removed campaign cannot be changed.", "update"), ""
		}
		m := mask(o.UpdateMask)
		if len(m) == 0 {
			return "", errAt("fieldMaskError", "FIELD_MASK_MISSING", "The update mask is missing.", "update_mask"), ""
		}
		for f := range m {
			switch f {
			case "name":
				if oe := tx.campaignName(deref(in.Name), id, "update"); oe != nil {
					return "", oe, ""
				}
				c.Name = deref(in.Name)
			case "status":
				st, oe := updatedStatus(in.Status)
				if oe != nil {
					return "", oe, ""
				}
				if st != c.Status {
					c.StatusUpdates++
				}
				c.Status = st
			case "end_date_time":
				if in.EndDateTime == nil || *in.EndDateTime == "" {
					c.EndDate = ""
					continue
				}
				d, ok := day(*in.EndDateTime)
				if !ok {
					return "", errAt("dateError", "INVALID_STRING_DATE_TIME_SECONDS", "The end date time is not yyyy-MM-dd HH:mm:ss.", "update", "end_date_time"), ""
				}
				if s, _ := day(c.StartDate); s != "" && d < s {
					return "", errAt("dateRangeError", "START_DATE_AFTER_END_DATE", "The end date is before the start date.", "update", "end_date_time"), ""
				}
				c.EndDate = *in.EndDateTime
			case "start_date_time":
				if s, _ := day(c.StartDate); s != "" && s <= tx.today {
					return "", errAt("campaignError", "CANNOT_MODIFY_START_DATE_IF_ALREADY_STARTED", "The campaign has started.", "update", "start_date_time"), ""
				}
				if _, ok := day(deref(in.StartDateTime)); !ok {
					return "", errAt("dateError", "INVALID_STRING_DATE_TIME_SECONDS", "The start date time is not yyyy-MM-dd HH:mm:ss.", "update", "start_date_time"), ""
				}
				c.StartDate = deref(in.StartDateTime)
			case "advertising_channel_type", "campaign_budget":
				return "", errAt("fieldError", "IMMUTABLE_FIELD", f+" cannot be changed here.", "update", f), ""
			default:
				return "", errAt("fieldMaskError", "FIELD_NOT_FOUND", "The fake does not update "+f+".", "update_mask"), ""
			}
		}
		return tx.rn(kCampaign, id), nil, ""
	}
	fail := func(oe *opErr) (string, *opErr, string) { tx.markFailed(in.ResourceName); return "", oe, "" }
	c := &Campaign{Status: "ENABLED", Network: in.NetworkSettings}
	if in.Status != nil {
		if *in.Status == "REMOVED" {
			return fail(errAt("enumError", "ENUM_VALUE_NOT_PERMITTED", "A campaign cannot be created REMOVED.", "create", "status"))
		}
		c.Status = *in.Status
	}
	c.Name = deref(in.Name)
	if oe := tx.campaignName(c.Name, 0, "create"); oe != nil {
		return fail(oe)
	}
	if in.AdvertisingChannelType == nil {
		return fail(errAt("fieldError", "REQUIRED", "advertising_channel_type is required.", "create", "advertising_channel_type"))
	}
	c.ChannelType = *in.AdvertisingChannelType
	if in.ContainsEuPoliticalAdvertising == nil {
		return fail(errAt("mutateError", "EU_POLITICAL_ADVERTISING_DECLARATION_REQUIRED", "Declare whether the campaign contains EU political advertising.", "create", "contains_eu_political_advertising"))
	}
	c.EUPolitical = *in.ContainsEuPoliticalAdvertising
	bid, oe, ok := tx.required(in.CampaignBudget, "campaignBudgets", "campaign_budget")
	if !ok || oe != nil {
		return fail(oe)
	}
	b := tx.st.budgets[bid]
	if b == nil || b.Status == "REMOVED" {
		return fail(errAt("campaignBudgetError", "CAMPAIGN_BUDGET_REMOVED", "The campaign budget does not exist or is removed.", "create", "campaign_budget"))
	}
	c.Budget = bid
	strategies := 0
	if len(in.ManualCpc) > 0 {
		strategies++
		c.Bidding = "MANUAL_CPC"
	}
	if in.TargetSpend != nil {
		strategies++
		c.Bidding, c.CPCCeilingMicros = "TARGET_SPEND", in.TargetSpend.CpcBidCeilingMicros.v
	}
	if len(in.MaximizeConversions) > 0 {
		strategies++
		c.Bidding = "MAXIMIZE_CONVERSIONS"
	}
	if strategies != 1 {
		return fail(errAt("biddingError", "BIDDING_STRATEGY_REQUIRED", "Set exactly one bidding strategy (manualCpc, targetSpend, maximizeConversions).", "create"))
	}
	if in.StartDateTime != nil {
		d, ok := day(*in.StartDateTime)
		if !ok {
			return fail(errAt("dateError", "INVALID_STRING_DATE_TIME_SECONDS", "The start date time is not yyyy-MM-dd HH:mm:ss.", "create", "start_date_time"))
		}
		if d < tx.today {
			return fail(errAt("campaignError", "CANNOT_SET_DATE_TO_PAST", "The start date is in the past.", "create", "start_date_time"))
		}
		c.StartDate = *in.StartDateTime
	}
	if in.EndDateTime != nil {
		d, ok := day(*in.EndDateTime)
		if !ok {
			return fail(errAt("dateError", "INVALID_STRING_DATE_TIME_SECONDS", "The end date time is not yyyy-MM-dd HH:mm:ss.", "create", "end_date_time"))
		}
		if s, _ := day(c.StartDate); s != "" && d < s {
			return fail(errAt("dateRangeError", "START_DATE_AFTER_END_DATE", "The end date is before the start date.", "create", "end_date_time"))
		}
		c.EndDate = *in.EndDateTime
	}
	if b.Period == "CUSTOM_PERIOD" && c.EndDate == "" {
		return fail(errAt("campaignError", "END_DATE_TIME_REQUIRED_FOR_TOTAL_BUDGET", "A campaign with a total budget needs an end date time.", "create", "end_date_time"))
	}
	name, oe := tx.store(kCampaign, in.ResourceName, func(id int64) { c.ID = id; tx.st.campaigns[id] = c })
	if oe != nil {
		return fail(oe)
	}
	return name, nil, ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ---- ad groups ----

func (tx *txn) groupName(name string, campaign, self int64, op string) *opErr {
	switch {
	case name == "":
		return errAt("fieldError", "REQUIRED", "The ad group name is required.", op, "name")
	case utf8.RuneCountInString(name) >= 255:
		return errAt("stringLengthError", "TOO_LONG", "An ad group name is under 255 characters.", op, "name")
	case badName(name):
		return errAt("adGroupError", "INVALID_ADGROUP_NAME", "The ad group name contains NUL, LF or CR.", op, "name")
	}
	for id, g := range tx.st.groups {
		if id != self && g.Campaign == campaign && g.Name == name && g.Status != "REMOVED" {
			return errAt("adGroupError", "DUPLICATE_ADGROUP_NAME", "AdGroup with the same name already exists for the campaign.", op, "name")
		}
	}
	return nil
}

func (tx *txn) adGroup(o operation) (string, *opErr, string) {
	if o.Remove != "" {
		id, _, ok := tx.target(kAdGroup, o.Remove)
		g := tx.st.groups[id]
		if !ok || g == nil {
			return "", notFound("remove", o.Remove), ""
		}
		if g.Status == "REMOVED" {
			return "", errAt("mutateError", "MUTATE_NOT_ALLOWED", "The ad group is removed already.", "remove"), ""
		}
		g.Status = "REMOVED"
		return tx.rn(kAdGroup, id), nil, ""
	}
	var in adGroupJSON
	op, msg := decode(o, &in, "AdGroup")
	if msg != "" {
		return "", nil, msg
	}
	if msg, oe := checkEnums(enum{in.Status, statusEnum, "status", "AdGroupStatusEnum.AdGroupStatus"}, enum{in.Type, groupType, "type", "AdGroupTypeEnum.AdGroupType"}); msg != "" || oe != nil {
		tx.markFailed(in.ResourceName)
		return "", oe, msg
	}
	if op == "update" {
		id, _, ok := tx.target(kAdGroup, in.ResourceName)
		g := tx.st.groups[id]
		if !ok || g == nil {
			return "", notFound("update", in.ResourceName), ""
		}
		if g.Status == "REMOVED" {
			return "", errAt("mutateError", "MUTATE_NOT_ALLOWED", "A removed ad group cannot be changed.", "update"), ""
		}
		for f := range mask(o.UpdateMask) {
			switch f {
			case "name":
				if oe := tx.groupName(deref(in.Name), g.Campaign, id, "update"); oe != nil {
					return "", oe, ""
				}
				g.Name = deref(in.Name)
			case "status":
				st, oe := updatedStatus(in.Status)
				if oe != nil {
					return "", oe, ""
				}
				g.Status = st
			case "cpc_bid_micros":
				if in.CpcBidMicros.v%minUnit != 0 {
					return "", errAt("adGroupError", "INVALID_BID", "The bid is not a multiple of the currency's minimum unit.", "update", "cpc_bid_micros"), ""
				}
				g.CPCBidMicros = in.CpcBidMicros.v
			default:
				return "", errAt("fieldError", "IMMUTABLE_FIELD", f+" cannot be changed.", "update", f), ""
			}
		}
		return tx.rn(kAdGroup, id), nil, ""
	}
	fail := func(oe *opErr) (string, *opErr, string) { tx.markFailed(in.ResourceName); return "", oe, "" }
	cid, oe, ok := tx.required(in.Campaign, "campaigns", "campaign")
	if !ok || oe != nil {
		return fail(oe)
	}
	c := tx.st.campaigns[cid]
	if c == nil || c.Status == "REMOVED" {
		return fail(errAt("adGroupError", "CANNOT_ADD_ADGROUP_OF_TYPE_DSA_TO_CAMPAIGN_WITHOUT_DSA_SETTING", "The campaign does not exist or is removed.", "create", "campaign"))
	}
	g := &AdGroup{Campaign: cid, Status: "ENABLED", Type: "SEARCH_STANDARD", Name: deref(in.Name)}
	if in.Status != nil {
		if *in.Status == "REMOVED" {
			return fail(errAt("enumError", "ENUM_VALUE_NOT_PERMITTED", "An ad group cannot be created REMOVED.", "create", "status"))
		}
		g.Status = *in.Status
	}
	if in.Type != nil {
		g.Type = *in.Type
	}
	if c.ChannelType == "SEARCH" && g.Type != "SEARCH_STANDARD" {
		return fail(errAt("adGroupError", "ADGROUP_TYPE_NOT_VALID_FOR_ADVERTISING_CHANNEL_TYPE", "A SEARCH campaign takes SEARCH_STANDARD ad groups.", "create", "type"))
	}
	if oe := tx.groupName(g.Name, cid, 0, "create"); oe != nil {
		return fail(oe)
	}
	if in.CpcBidMicros.set {
		if in.CpcBidMicros.v <= 0 || in.CpcBidMicros.v%minUnit != 0 {
			return fail(errAt("adGroupError", "INVALID_BID", "The bid must be a positive multiple of the currency's minimum unit.", "create", "cpc_bid_micros"))
		}
		g.CPCBidMicros = in.CpcBidMicros.v
	}
	name, oe := tx.store(kAdGroup, in.ResourceName, func(id int64) { g.ID = id; tx.st.groups[id] = g })
	if oe != nil {
		return fail(oe)
	}
	return name, nil, ""
}

// ---- ad group ads (responsive search ads) ----

func (tx *txn) adGroupAd(o operation) (string, *opErr, string) {
	if o.Remove != "" {
		g, a, ok := tx.target(kAd, o.Remove)
		ad := tx.st.ads[fmtID(g)+"~"+fmtID(a)]
		if !ok || ad == nil {
			return "", notFound("remove", o.Remove), ""
		}
		if ad.Status == "REMOVED" {
			return "", errAt("adGroupAdError", "CANNOT_OPERATE_ON_REMOVED_ADGROUPAD", "The ad is removed already.", "remove"), ""
		}
		ad.Status = "REMOVED"
		return tx.rn(kAd, g, a), nil, ""
	}
	var in adGroupAdJSON
	op, msg := decode(o, &in, "AdGroupAd")
	if msg != "" {
		return "", nil, msg
	}
	if msg, oe := checkEnum(in.Status, statusEnum, "status", "AdGroupAdStatusEnum.AdGroupAdStatus"); msg != "" || oe != nil {
		return "", oe, msg
	}
	if op == "update" {
		g, a, ok := tx.target(kAd, in.ResourceName)
		ad := tx.st.ads[fmtID(g)+"~"+fmtID(a)]
		if !ok || ad == nil {
			return "", notFound("update", in.ResourceName), ""
		}
		if ad.Status == "REMOVED" {
			return "", errAt("adGroupAdError", "CANNOT_OPERATE_ON_REMOVED_ADGROUPAD", "A removed ad cannot be changed.", "update"), ""
		}
		for f := range mask(o.UpdateMask) {
			if f != "status" {
				return "", errAt("fieldError", "IMMUTABLE_FIELD", "An ad group ad's "+f+" is immutable: create a new ad and remove this one.", "update", f), ""
			}
			st, oe := updatedStatus(in.Status)
			if oe != nil {
				return "", oe, ""
			}
			ad.Status = st
		}
		return tx.rn(kAd, g, a), nil, ""
	}
	gid, oe := tx.liveGroup(in.AdGroup, "adGroupAdError", "AD_GROUP_AD_LABEL_DOES_NOT_EXIST")
	if oe != nil || gid == 0 {
		return "", oe, ""
	}
	if in.Ad == nil || in.Ad.ResponsiveSearchAd == nil {
		return "", errAt("fieldError", "REQUIRED", "ad.responsive_search_ad is required (the fake serves responsive search ads only).", "create", "ad"), ""
	}
	rsa := in.Ad.ResponsiveSearchAd
	ad := &AdGroupAd{AdGroup: gid, Status: "ENABLED", Path1: rsa.Path1, Path2: rsa.Path2, FinalURLs: in.Ad.FinalUrls}
	if in.Status != nil {
		if *in.Status == "REMOVED" {
			return "", errAt("enumError", "ENUM_VALUE_NOT_PERMITTED", "An ad cannot be created REMOVED.", "create", "status"), ""
		}
		ad.Status = *in.Status
	}
	if oe := checkAssets(rsa.Headlines, 3, 15, 30, "headlines"); oe != nil {
		return "", oe, ""
	}
	if oe := checkAssets(rsa.Descriptions, 2, 4, 90, "descriptions"); oe != nil {
		return "", oe, ""
	}
	for _, p := range []struct{ v, f string }{{rsa.Path1, "path1"}, {rsa.Path2, "path2"}} {
		if utf8.RuneCountInString(p.v) > 15 {
			return "", errAt("stringLengthError", "TOO_LONG", p.f+" is at most 15 characters.", "create", "ad", "responsive_search_ad", p.f), ""
		}
	}
	if rsa.Path2 != "" && rsa.Path1 == "" {
		return "", errAt("adError", "CANNOT_SET_PATH2_WITHOUT_PATH1", "path2 needs path1.", "create", "ad", "responsive_search_ad", "path2"), ""
	}
	if len(in.Ad.FinalUrls) == 0 {
		return "", errAt("adError", "CANNOT_SET_WITHOUT_FINAL_URLS", "At least one final URL is required.", "create", "ad", "final_urls"), ""
	}
	for i, u := range in.Ad.FinalUrls {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return "", errAt("urlFieldError", "INVALID_URL_FORMAT", "The final URL is not http(s).", "create", "ad", "final_urls", i), ""
		}
	}
	for _, h := range rsa.Headlines {
		ad.Headlines = append(ad.Headlines, h.Text)
	}
	for _, d := range rsa.Descriptions {
		ad.Descriptions = append(ad.Descriptions, d.Text)
	}
	name, oe := tx.store(kAd, in.ResourceName, func(id int64) { ad.AdID = id; tx.st.ads[fmtID(gid)+"~"+fmtID(id)] = ad }, gid)
	return name, oe, ""
}

func checkAssets(list []textAsset, min, max, maxLen int, field string) *opErr {
	switch {
	case len(list) < min:
		return errAt("collectionSizeError", "TOO_FEW", fmt.Sprintf("A responsive search ad has at least %d %s.", min, field), "create", "ad", "responsive_search_ad", field)
	case len(list) > max:
		return errAt("collectionSizeError", "TOO_MANY", fmt.Sprintf("A responsive search ad has at most %d %s.", max, field), "create", "ad", "responsive_search_ad", field)
	}
	seen := map[string]bool{}
	for i, a := range list {
		n := utf8.RuneCountInString(a.Text)
		switch {
		case strings.TrimSpace(a.Text) == "":
			return errAt("stringLengthError", "EMPTY", "The text is empty.", "create", "ad", "responsive_search_ad", field, i, "text")
		case n > maxLen:
			return errAt("stringLengthError", "TOO_LONG", fmt.Sprintf("Too long: %d characters, at most %d.", n, maxLen), "create", "ad", "responsive_search_ad", field, i, "text")
		case seen[strings.ToLower(a.Text)]:
			return errAt("assetError", "DUPLICATE_ASSET", "Duplicate asset text.", "create", "ad", "responsive_search_ad", field, i, "text")
		}
		seen[strings.ToLower(a.Text)] = true
	}
	return nil
}

// ---- ad group criteria ----

var (
	geoRE  = regexp.MustCompile(`^geoTargetConstants/\d+$`)
	langRE = regexp.MustCompile(`^languageConstants/\d+$`)
)

func (tx *txn) criterion(o operation) (string, *opErr, string) {
	if o.Remove != "" {
		g, c, ok := tx.target(kCriterion, o.Remove)
		cr := tx.st.criteria[fmtID(g)+"~"+fmtID(c)]
		if !ok || cr == nil || cr.Status == "REMOVED" {
			return "", notFound("remove", o.Remove), ""
		}
		cr.Status = "REMOVED"
		return tx.rn(kCriterion, g, c), nil, ""
	}
	var in criterionJSON
	op, msg := decode(o, &in, "AdGroupCriterion")
	if msg != "" {
		return "", nil, msg
	}
	if msg, oe := checkEnum(in.Status, statusEnum, "status", "AdGroupCriterionStatusEnum.AdGroupCriterionStatus"); msg != "" || oe != nil {
		return "", oe, msg
	}
	if in.Keyword != nil {
		if msg, oe := checkEnum(&in.Keyword.MatchType, matchEnum, "keyword.match_type", "KeywordMatchTypeEnum.KeywordMatchType"); msg != "" || oe != nil {
			return "", oe, msg
		}
	}
	if op == "update" {
		g, c, ok := tx.target(kCriterion, in.ResourceName)
		cr := tx.st.criteria[fmtID(g)+"~"+fmtID(c)]
		if !ok || cr == nil || cr.Status == "REMOVED" {
			return "", notFound("update", in.ResourceName), ""
		}
		for f := range mask(o.UpdateMask) {
			if f != "status" {
				return "", errAt("fieldError", "IMMUTABLE_FIELD", "The fake updates a criterion's status only.", "update", f), ""
			}
			st, oe := updatedStatus(in.Status)
			if oe != nil {
				return "", oe, ""
			}
			cr.Status = st
		}
		return tx.rn(kCriterion, g, c), nil, ""
	}
	gid, oe := tx.liveGroup(in.AdGroup, "adGroupCriterionError", "CANNOT_ADD_CRITERIA_TYPE")
	if oe != nil || gid == 0 {
		return "", oe, ""
	}
	if (in.Location != nil || in.Language != nil) && in.Keyword == nil {
		if c := tx.st.campaigns[tx.st.groups[gid].Campaign]; c != nil && c.ChannelType == "SEARCH" {
			field := "location"
			if in.Location == nil {
				field = "language"
			}
			return "", errAt("criterionError", "CANNOT_ADD_CRITERIA_TYPE",
				"Criteria of this type cannot be added to an ad group of a search campaign: location and language targeting is set on the campaign (CampaignCriterion).", "create", field), ""
		}
	}
	cr := &Criterion{AdGroup: gid, Status: "ENABLED"}
	if in.Status != nil {
		cr.Status = *in.Status
	}
	if in.Negative != nil {
		cr.Negative = *in.Negative
	}
	set := 0
	if in.Keyword != nil {
		set++
		cr.Type, cr.Text, cr.Match = "KEYWORD", in.Keyword.Text, in.Keyword.MatchType
		words := len(strings.Fields(cr.Text))
		switch {
		case strings.TrimSpace(cr.Text) == "":
			return "", errAt("criterionError", "INVALID_KEYWORD_TEXT", "The keyword text is empty.", "create", "keyword", "text"), ""
		case utf8.RuneCountInString(cr.Text) > 80:
			return "", errAt("criterionError", "KEYWORD_TEXT_TOO_LONG", "A keyword is at most 80 characters.", "create", "keyword", "text"), ""
		case words > 10:
			return "", errAt("criterionError", "KEYWORD_HAS_TOO_MANY_WORDS", "A keyword is at most 10 words.", "create", "keyword", "text"), ""
		case cr.Match == "":
			return "", errAt("fieldError", "REQUIRED", "keyword.match_type is required.", "create", "keyword", "match_type"), ""
		}
	}
	if in.Location != nil {
		set++
		cr.Type, cr.GeoTarget = "LOCATION", in.Location.GeoTargetConstant
		if !geoRE.MatchString(cr.GeoTarget) {
			return "", errAt("criterionError", "INVALID_GEO_TARGET_CONSTANT", "Not a geo target constant: "+cr.GeoTarget, "create", "location", "geo_target_constant"), ""
		}
	}
	if in.Language != nil {
		set++
		cr.Type, cr.Language = "LANGUAGE", in.Language.LanguageConstant
		if !langRE.MatchString(cr.Language) {
			return "", errAt("criterionError", "INVALID_LANGUAGE_CONSTANT", "Not a language constant: "+cr.Language, "create", "language", "language_constant"), ""
		}
	}
	if set != 1 {
		return "", errAt("criterionError", "CRITERION_TYPE_NOT_SET", "Set exactly one of keyword, location, language.", "create"), ""
	}
	name, oe := tx.store(kCriterion, in.ResourceName, func(id int64) { cr.ID = id; tx.st.criteria[fmtID(gid)+"~"+fmtID(id)] = cr }, gid)
	return name, oe, ""
}

// ---- campaign criteria ----

// campaignCriterion serves the location and language criteria of a
// campaign: create (campaign required, exactly one of location and
// language, negative optional) and remove.
func (tx *txn) campaignCriterion(o operation) (string, *opErr, string) {
	if o.Remove != "" {
		c, id, ok := tx.target(kCampCrit, o.Remove)
		cr := tx.st.campCrit[fmtID(c)+"~"+fmtID(id)]
		if !ok || cr == nil || cr.Status == "REMOVED" {
			return "", notFound("remove", o.Remove), ""
		}
		cr.Status = "REMOVED"
		return tx.rn(kCampCrit, c, id), nil, ""
	}
	var in campaignCriterionJSON
	op, msg := decode(o, &in, "CampaignCriterion")
	if msg != "" {
		return "", nil, msg
	}
	if msg, oe := checkEnum(in.Status, statusEnum, "status", "CampaignCriterionStatusEnum.CampaignCriterionStatus"); msg != "" || oe != nil {
		return "", oe, msg
	}
	if op == "update" {
		return "", errAt("fieldError", "IMMUTABLE_FIELD", "The fake does not update campaign criteria: remove one and create another.", "update"), ""
	}
	cid, oe, ok := tx.required(in.Campaign, "campaigns", "campaign")
	if !ok || oe != nil {
		return "", oe, ""
	}
	camp := tx.st.campaigns[cid]
	if camp == nil || camp.Status == "REMOVED" {
		return "", errAt("campaignCriterionError", "CANNOT_ADD_CRITERIA_TYPE", "The campaign does not exist or is removed.", "create", "campaign"), ""
	}
	cr := &CampaignCriterion{Campaign: cid, Status: "ENABLED"}
	if in.Status != nil {
		cr.Status = *in.Status
	}
	if in.Negative != nil {
		cr.Negative = *in.Negative
	}
	set := 0
	if len(in.Keyword) > 0 && string(in.Keyword) != "null" {
		return "", errAt("criterionError", "CANNOT_ADD_CRITERIA_TYPE", "The fake serves location and language campaign criteria only.", "create", "keyword"), ""
	}
	if in.Location != nil {
		set++
		cr.Type, cr.GeoTarget = "LOCATION", in.Location.GeoTargetConstant
		if !geoRE.MatchString(cr.GeoTarget) {
			return "", errAt("criterionError", "INVALID_GEO_TARGET_CONSTANT", "Not a geo target constant: "+cr.GeoTarget, "create", "location", "geo_target_constant"), ""
		}
	}
	if in.Language != nil {
		set++
		cr.Type, cr.Language = "LANGUAGE", in.Language.LanguageConstant
		if !langRE.MatchString(cr.Language) {
			return "", errAt("criterionError", "INVALID_LANGUAGE_CONSTANT", "Not a language constant: "+cr.Language, "create", "language", "language_constant"), ""
		}
	}
	if set != 1 {
		return "", errAt("criterionError", "CRITERION_TYPE_NOT_SET", "Set exactly one of location, language.", "create"), ""
	}
	for _, other := range tx.st.campCrit {
		if other.Campaign == cid && other.Status != "REMOVED" && other.Type == cr.Type && other.GeoTarget == cr.GeoTarget && other.Language == cr.Language {
			return "", errAt("mutateError", "DUPLICATE_RESOURCE", "The campaign has this criterion already.", "create"), ""
		}
	}
	name, oe := tx.store(kCampCrit, in.ResourceName, func(id int64) { cr.ID = id; tx.st.campCrit[fmtID(cid)+"~"+fmtID(id)] = cr }, cid)
	return name, oe, ""
}
