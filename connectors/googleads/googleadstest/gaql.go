package googleadstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// GAQL: enough of the Google Ads Query Language for the connector's
// queries. SELECT fields FROM resource [WHERE cond AND cond …] [ORDER BY …]
// [LIMIT n], with conditions field op value where op is =, !=, <, <=, >, >=,
// LIKE, NOT LIKE, IN (…), NOT IN (…). Fields not of the resource (or of
// the resources it implies, metrics and segments.date) are refused with
// QueryError.UNRECOGNIZED_FIELD.

type row map[string]any // "campaign.name" → value

var fieldsOf = map[string][]string{
	"customer": {"customer.resource_name", "customer.id", "customer.descriptive_name", "customer.currency_code", "customer.time_zone", "customer.manager", "customer.test_account"},
	"campaign": {"campaign.resource_name", "campaign.id", "campaign.name", "campaign.status", "campaign.advertising_channel_type", "campaign.campaign_budget",
		"campaign.start_date_time", "campaign.end_date_time", "campaign.bidding_strategy_type", "campaign.contains_eu_political_advertising",
		"campaign_budget.resource_name", "campaign_budget.id", "campaign_budget.name", "campaign_budget.amount_micros", "campaign_budget.total_amount_micros",
		"campaign_budget.period", "campaign_budget.explicitly_shared", "campaign_budget.status",
		"metrics.impressions", "metrics.clicks", "metrics.cost_micros", "metrics.conversions", "segments.date"},
	"ad_group": {"ad_group.resource_name", "ad_group.id", "ad_group.name", "ad_group.status", "ad_group.type", "ad_group.cpc_bid_micros", "ad_group.campaign",
		"campaign.id", "campaign.name", "campaign.status"},
	"ad_group_ad": {"ad_group_ad.resource_name", "ad_group_ad.status", "ad_group_ad.ad_group", "ad_group_ad.ad.id", "ad_group_ad.ad.final_urls",
		"ad_group_ad.ad.responsive_search_ad.headlines", "ad_group_ad.ad.responsive_search_ad.descriptions",
		"ad_group_ad.ad.responsive_search_ad.path1", "ad_group_ad.ad.responsive_search_ad.path2",
		"ad_group.id", "ad_group.name", "ad_group.status", "campaign.id", "campaign.status"},
	"ad_group_criterion": {"ad_group_criterion.resource_name", "ad_group_criterion.criterion_id", "ad_group_criterion.status", "ad_group_criterion.type",
		"ad_group_criterion.negative", "ad_group_criterion.keyword.text", "ad_group_criterion.keyword.match_type",
		"ad_group_criterion.location.geo_target_constant", "ad_group_criterion.language.language_constant", "ad_group_criterion.ad_group",
		"ad_group.id", "ad_group.name", "ad_group.status", "campaign.id", "campaign.status"},
	"campaign_criterion": {"campaign_criterion.resource_name", "campaign_criterion.campaign", "campaign_criterion.criterion_id", "campaign_criterion.status",
		"campaign_criterion.type", "campaign_criterion.negative", "campaign_criterion.location.geo_target_constant",
		"campaign_criterion.language.language_constant", "campaign.id", "campaign.name", "campaign.status"},
}

var (
	queryRE = regexp.MustCompile(`(?is)^\s*SELECT\s+(.+?)\s+FROM\s+([a-z_]+)(?:\s+WHERE\s+(.+?))?(?:\s+ORDER\s+BY\s+(.+?))?(?:\s+LIMIT\s+(\d+))?\s*$`)
	condRE  = regexp.MustCompile(`(?is)^([a-z_.0-9]+)\s*(!=|>=|<=|=|>|<|NOT\s+LIKE|LIKE|NOT\s+IN|IN)\s*(.+)$`)
	andRE   = regexp.MustCompile(`(?i)\s+AND\s+`)
)

type cond struct {
	field, op string
	values    []string
}

type query struct {
	fields   []string
	resource string
	conds    []cond
	limit    int
}

func parseQuery(q string) (*query, string) {
	m := queryRE.FindStringSubmatch(q)
	if m == nil {
		return nil, "The query is not SELECT … FROM … [WHERE …] [ORDER BY …] [LIMIT n]."
	}
	out := &query{resource: m[2]}
	allowed, ok := fieldsOf[m[2]]
	if !ok {
		return nil, "Unrecognized resource " + m[2] + "."
	}
	has := func(f string) bool {
		for _, a := range allowed {
			if a == f {
				return true
			}
		}
		return false
	}
	for _, f := range strings.Split(m[1], ",") {
		f = strings.TrimSpace(f)
		if !has(f) {
			return nil, "Unrecognized field in the query: '" + f + "'."
		}
		out.fields = append(out.fields, f)
	}
	if m[3] != "" {
		for _, part := range splitAnd(m[3]) {
			c := condRE.FindStringSubmatch(strings.TrimSpace(part))
			if c == nil {
				return nil, "Cannot parse the condition '" + part + "'."
			}
			if !has(c[1]) {
				return nil, "Unrecognized field in the query: '" + c[1] + "'."
			}
			op := strings.ToUpper(strings.Join(strings.Fields(c[2]), " "))
			vals, err := parseValues(strings.TrimSpace(c[3]), op == "IN" || op == "NOT IN")
			if err != "" {
				return nil, err
			}
			out.conds = append(out.conds, cond{c[1], op, vals})
		}
	}
	if m[5] != "" {
		out.limit, _ = strconv.Atoi(m[5])
	}
	return out, ""
}

// splitAnd splits on AND outside quotes.
func splitAnd(s string) []string {
	var parts []string
	var cur strings.Builder
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			cur.WriteByte(c)
			if c == quote {
				quote = 0
			}
			continue
		}
		if c == '\'' || c == '"' {
			quote = c
			cur.WriteByte(c)
			continue
		}
		if loc := andRE.FindStringIndex(s[i:]); loc != nil && loc[0] == 0 {
			parts = append(parts, cur.String())
			cur.Reset()
			i += loc[1] - 1
			continue
		}
		cur.WriteByte(c)
	}
	return append(parts, cur.String())
}

func parseValues(s string, list bool) ([]string, string) {
	if list {
		if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
			return nil, "IN takes a parenthesized list."
		}
		var out []string
		for _, v := range strings.Split(s[1:len(s)-1], ",") {
			one, err := parseValues(strings.TrimSpace(v), false)
			if err != "" {
				return nil, err
			}
			out = append(out, one...)
		}
		return out, ""
	}
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return []string{s[1 : len(s)-1]}, ""
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return []string{s}, ""
	}
	if regexp.MustCompile(`^[A-Z_]+$`).MatchString(s) {
		return []string{s}, "" // an enum written bare
	}
	return nil, "Cannot read the value " + s + "."
}

// likeRE turns a GAQL LIKE pattern into a regexp: % any run, _ one
// character, [x] the character x literally.
func likeRE(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		case '[':
			if j := strings.IndexByte(p[i+1:], ']'); j >= 0 {
				// [x] or []] style: the first character after [ is literal.
				if j == 0 && i+2 < len(p) && p[i+2] == ']' {
					b.WriteString(regexp.QuoteMeta("]"))
					i += 2
					continue
				}
				b.WriteString(regexp.QuoteMeta(p[i+1 : i+1+j]))
				i += j + 1
				continue
			}
			b.WriteString(regexp.QuoteMeta("["))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func compare(a any, b string) int {
	as := str(a)
	af, e1 := strconv.ParseFloat(as, 64)
	bf, e2 := strconv.ParseFloat(b, 64)
	if _, isStr := a.(string); !isStr && e1 == nil && e2 == nil {
		switch {
		case af < bf:
			return -1
		case af > bf:
			return 1
		}
		return 0
	}
	return strings.Compare(as, b)
}

func (c cond) match(r row) bool {
	v, ok := r[c.field]
	if !ok {
		return false
	}
	switch c.op {
	case "=":
		return compare(v, c.values[0]) == 0
	case "!=":
		return compare(v, c.values[0]) != 0
	case "<":
		return compare(v, c.values[0]) < 0
	case "<=":
		return compare(v, c.values[0]) <= 0
	case ">":
		return compare(v, c.values[0]) > 0
	case ">=":
		return compare(v, c.values[0]) >= 0
	case "LIKE":
		return likeRE(c.values[0]).MatchString(str(v))
	case "NOT LIKE":
		return !likeRE(c.values[0]).MatchString(str(v))
	case "IN", "NOT IN":
		in := false
		for _, x := range c.values {
			if compare(v, x) == 0 {
				in = true
			}
		}
		return in == (c.op == "IN")
	}
	return false
}

func (s *Server) rows(resource string, withMetrics bool) []row {
	var out []row
	switch resource {
	case "customer":
		out = append(out, row{"customer.resource_name": "customers/" + DefaultCustomerID, "customer.id": mustInt(DefaultCustomerID),
			"customer.descriptive_name": "Acme Outdoor (fake)", "customer.currency_code": s.currency, "customer.time_zone": s.timeZone,
			"customer.manager": false, "customer.test_account": true})
	case "campaign":
		for _, c := range s.campaigns {
			b := s.budgets[c.Budget]
			base := row{"campaign.resource_name": "customers/" + DefaultCustomerID + "/campaigns/" + fmtID(c.ID), "campaign.id": c.ID,
				"campaign.name": c.Name, "campaign.status": c.Status, "campaign.advertising_channel_type": c.ChannelType,
				"campaign.campaign_budget": "customers/" + DefaultCustomerID + "/campaignBudgets/" + fmtID(c.Budget),
				"campaign.start_date_time": c.StartDate, "campaign.end_date_time": c.EndDate, "campaign.bidding_strategy_type": c.Bidding,
				"campaign.contains_eu_political_advertising": c.EUPolitical}
			if b != nil {
				base["campaign_budget.resource_name"] = base["campaign.campaign_budget"]
				base["campaign_budget.id"], base["campaign_budget.name"], base["campaign_budget.period"] = b.ID, b.Name, b.Period
				base["campaign_budget.amount_micros"], base["campaign_budget.total_amount_micros"] = b.AmountMicros, b.TotalAmountMicros
				base["campaign_budget.explicitly_shared"], base["campaign_budget.status"] = b.ExplicitlyShared, b.Status
			}
			if !withMetrics {
				out = append(out, base)
				continue
			}
			for d, m := range s.metrics[c.ID] {
				r := row{}
				for k, v := range base {
					r[k] = v
				}
				r["segments.date"], r["metrics.impressions"], r["metrics.clicks"] = d, m.Impressions, m.Clicks
				r["metrics.cost_micros"], r["metrics.conversions"] = m.CostMicros, m.Conversions
				out = append(out, r)
			}
		}
	case "ad_group":
		for _, g := range s.groups {
			c := s.campaigns[g.Campaign]
			out = append(out, row{"ad_group.resource_name": "customers/" + DefaultCustomerID + "/adGroups/" + fmtID(g.ID), "ad_group.id": g.ID,
				"ad_group.name": g.Name, "ad_group.status": g.Status, "ad_group.type": g.Type, "ad_group.cpc_bid_micros": g.CPCBidMicros,
				"ad_group.campaign": "customers/" + DefaultCustomerID + "/campaigns/" + fmtID(g.Campaign),
				"campaign.id":       c.ID, "campaign.name": c.Name, "campaign.status": c.Status})
		}
	case "ad_group_ad":
		for _, a := range s.ads {
			g := s.groups[a.AdGroup]
			c := s.campaigns[g.Campaign]
			assets := func(list []string) []any {
				out := []any{}
				for _, t := range list {
					out = append(out, map[string]any{"text": t})
				}
				return out
			}
			out = append(out, row{"ad_group_ad.resource_name": "customers/" + DefaultCustomerID + "/adGroupAds/" + fmtID(a.AdGroup) + "~" + fmtID(a.AdID),
				"ad_group_ad.status": a.Status, "ad_group_ad.ad_group": "customers/" + DefaultCustomerID + "/adGroups/" + fmtID(a.AdGroup),
				"ad_group_ad.ad.id": a.AdID, "ad_group_ad.ad.final_urls": a.FinalURLs,
				"ad_group_ad.ad.responsive_search_ad.headlines": assets(a.Headlines), "ad_group_ad.ad.responsive_search_ad.descriptions": assets(a.Descriptions),
				"ad_group_ad.ad.responsive_search_ad.path1": a.Path1, "ad_group_ad.ad.responsive_search_ad.path2": a.Path2,
				"ad_group.id": g.ID, "ad_group.name": g.Name, "ad_group.status": g.Status, "campaign.id": c.ID, "campaign.status": c.Status})
		}
	case "ad_group_criterion":
		for _, cr := range s.criteria {
			g := s.groups[cr.AdGroup]
			c := s.campaigns[g.Campaign]
			r := row{"ad_group_criterion.resource_name": "customers/" + DefaultCustomerID + "/adGroupCriteria/" + fmtID(cr.AdGroup) + "~" + fmtID(cr.ID),
				"ad_group_criterion.criterion_id": cr.ID, "ad_group_criterion.status": cr.Status, "ad_group_criterion.type": cr.Type,
				"ad_group_criterion.negative": cr.Negative, "ad_group_criterion.ad_group": "customers/" + DefaultCustomerID + "/adGroups/" + fmtID(cr.AdGroup),
				"ad_group.id": g.ID, "ad_group.name": g.Name, "ad_group.status": g.Status, "campaign.id": c.ID, "campaign.status": c.Status}
			switch cr.Type {
			case "KEYWORD":
				r["ad_group_criterion.keyword.text"], r["ad_group_criterion.keyword.match_type"] = cr.Text, cr.Match
			case "LOCATION":
				r["ad_group_criterion.location.geo_target_constant"] = cr.GeoTarget
			case "LANGUAGE":
				r["ad_group_criterion.language.language_constant"] = cr.Language
			}
			out = append(out, r)
		}
	case "campaign_criterion":
		for _, cr := range s.campCrit {
			c := s.campaigns[cr.Campaign]
			r := row{"campaign_criterion.resource_name": "customers/" + DefaultCustomerID + "/campaignCriteria/" + fmtID(cr.Campaign) + "~" + fmtID(cr.ID),
				"campaign_criterion.campaign":     "customers/" + DefaultCustomerID + "/campaigns/" + fmtID(cr.Campaign),
				"campaign_criterion.criterion_id": cr.ID, "campaign_criterion.status": cr.Status, "campaign_criterion.type": cr.Type,
				"campaign_criterion.negative": cr.Negative, "campaign.id": c.ID, "campaign.name": c.Name, "campaign.status": c.Status}
			switch cr.Type {
			case "LOCATION":
				r["campaign_criterion.location.geo_target_constant"] = cr.GeoTarget
			case "LANGUAGE":
				r["campaign_criterion.language.language_constant"] = cr.Language
			}
			out = append(out, r)
		}
	}
	return out
}

func mustInt(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func (s *Server) serveSearch(w http.ResponseWriter, body []byte, stream bool) {
	var req struct {
		Query     string          `json:"query"`
		PageToken string          `json:"pageToken"`
		PageSize  json.RawMessage `json:"pageSize"`
	}
	s.mu.Lock()
	s.searches++
	s.mu.Unlock()
	queryFail := func(code, msg string) {
		f := newFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
		f.add("queryError", code, msg, nil)
		f.write(w)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error(), nil)
		return
	}
	if len(req.PageSize) > 0 {
		f := newFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
		f.add("requestError", "PAGE_SIZE_NOT_SUPPORTED", "page_size is not supported; pages hold 10,000 rows.", fp("page_size"))
		f.write(w)
		return
	}
	q, msg := parseQuery(req.Query)
	if q == nil {
		queryFail("UNRECOGNIZED_FIELD", msg)
		return
	}
	withMetrics, segmented := false, false
	for _, f := range q.fields {
		withMetrics = withMetrics || strings.HasPrefix(f, "metrics.")
		segmented = segmented || f == "segments.date"
	}
	for _, c := range q.conds {
		withMetrics = withMetrics || strings.HasPrefix(c.field, "metrics.") || c.field == "segments.date"
	}
	s.mu.Lock()
	all := s.rows(q.resource, withMetrics)
	s.mu.Unlock()
	var rows []row
	for _, r := range all {
		ok := true
		for _, c := range q.conds {
			if !c.match(r) {
				ok = false
				break
			}
		}
		if ok {
			rows = append(rows, r)
		}
	}
	if withMetrics && !segmented {
		rows = aggregate(rows)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return str(rows[i][q.resource+".resource_name"]) < str(rows[j][q.resource+".resource_name"])
	})
	if q.limit > 0 && len(rows) > q.limit {
		rows = rows[:q.limit]
	}
	results := make([]any, 0, len(rows))
	for _, r := range rows {
		results = append(results, shape(r, q.fields))
	}
	mask := strings.Join(camelAll(q.fields), ",")
	if stream {
		var batches []any
		for start := 0; start < len(results) || start == 0; start += PageSize {
			end := min(start+PageSize, len(results))
			batches = append(batches, map[string]any{"results": results[start:end], "fieldMask": mask, "requestId": requestID()})
			if end == len(results) {
				break
			}
		}
		writeJSON(w, batches)
		return
	}
	start := 0
	if req.PageToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(req.PageToken, "page-"))
		if err != nil || !strings.HasPrefix(req.PageToken, "page-") || n > len(results) {
			f := newFailure(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
			f.add("requestError", "INVALID_PAGE_TOKEN", "Page token is invalid.", fp("page_token"))
			f.write(w)
			return
		}
		start = n
	}
	end := min(start+PageSize, len(results))
	resp := map[string]any{"results": results[start:end], "fieldMask": mask, "totalResultsCount": strconv.Itoa(len(results))}
	if end < len(results) {
		resp["nextPageToken"] = "page-" + strconv.Itoa(end)
	}
	writeJSON(w, resp)
}

// aggregate sums the metrics of rows of one resource.
func aggregate(rows []row) []row {
	var order []string
	by := map[string]row{}
	for _, r := range rows {
		key := str(r["campaign.resource_name"])
		acc, ok := by[key]
		if !ok {
			acc = row{}
			for k, v := range r {
				acc[k] = v
			}
			delete(acc, "segments.date")
			by[key] = acc
			order = append(order, key)
			continue
		}
		for _, f := range []string{"metrics.impressions", "metrics.clicks", "metrics.cost_micros"} {
			acc[f] = acc[f].(int64) + r[f].(int64)
		}
		acc["metrics.conversions"] = acc["metrics.conversions"].(float64) + r["metrics.conversions"].(float64)
	}
	out := make([]row, 0, len(order))
	for _, k := range order {
		out = append(out, by[k])
	}
	return out
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func camelAll(fields []string) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		segs := strings.Split(f, ".")
		for j := range segs {
			segs[j] = camel(segs[j])
		}
		out[i] = strings.Join(segs, ".")
	}
	return out
}

// shape is a GoogleAdsRow in proto3 JSON holding the selected fields:
// int64 as strings, doubles as numbers, names in lowerCamelCase.
func shape(r row, fields []string) map[string]any {
	out := map[string]any{}
	for i, f := range fields {
		v, ok := r[f]
		if !ok {
			continue
		}
		switch x := v.(type) {
		case int64:
			v = strconv.FormatInt(x, 10)
		case string:
			if x == "" {
				continue // proto3 JSON leaves empty strings out
			}
		}
		segs := strings.Split(camelAll(fields)[i], ".")
		m := out
		for _, seg := range segs[:len(segs)-1] {
			next, ok := m[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[seg] = next
			}
			m = next
		}
		m[segs[len(segs)-1]] = v
	}
	return out
}
