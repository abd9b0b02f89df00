package outcomes

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// genConfig sizes a generated history.
type genConfig struct {
	seed       uint64
	campaigns  int
	emailsPer  int
	recipients int // per email
	contacts   int
	// lift scales how much subject features move the open rate: 0 makes
	// every email open alike, so any claim is noise.
	lift float64
}

var (
	genSubjects = []string{
		"Spring sale: 20% off everything",
		"Are you ready for spring?",
		"{{ contact.first_name | default: \"Hi\" }}, your offer is inside",
		"New arrivals",
		"The one thing our best customers do every single week before Monday's planning meeting",
		"3 ways to save an hour a day?",
		"Last chance",
		"What would you build with 10 more hours a week?",
	}
	genSegments  = []string{"Customers", "Trial users", "Newsletter"}
	genCTAs      = []string{"Book a demo", "Shop now", "Read more"}
	genTemplates = []string{"newsletter", "announcement", "html"}
	genHours     = []int{7, 10, 14, 19}
	genStart     = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
)

// generate makes a deterministic history: campaigns of emails and one
// landing page each, and for each recipient sent, delivered, open, click,
// page view and conversion events with probabilities that depend on the
// email's features, so that some differences are real. It passes each
// event to emit rather than returning them, so that 10,000,000 events
// need not be held at once.
func generate(cfg genConfig, emit func(Event)) Catalog {
	rng := rand.New(rand.NewPCG(cfg.seed, 0x1a57))
	var cat Catalog
	n := 0
	id := func() string { n++; return "e" + strconv.Itoa(n) }
	contact := func(i int) string { return "c" + strconv.Itoa(i) + "@example.com" }
	for c := range cfg.campaigns {
		cmpID := "cmp_" + strconv.Itoa(c)
		utm := "utm-" + strconv.Itoa(c)
		cat.Campaigns = append(cat.Campaigns, Campaign{ID: cmpID, Name: "Campaign " + strconv.Itoa(c), UTMCampaign: utm})
		page := Artifact{ID: "pg_" + strconv.Itoa(c), CampaignID: cmpID, Kind: "page", LiveIDs: map[string]string{"local": "P" + strconv.Itoa(c)}}
		cat.Artifacts = append(cat.Artifacts, page)
		for e := range cfg.emailsPer {
			k := c*cfg.emailsPer + e
			art := Artifact{
				ID: "eml_" + strconv.Itoa(k), CampaignID: cmpID, Kind: "email",
				LiveIDs:  map[string]string{"local": "L" + strconv.Itoa(k)},
				Subject:  genSubjects[rng.IntN(len(genSubjects))],
				SentAt:   genStart.Add(time.Duration(rng.IntN(56))*24*time.Hour + time.Duration(genHours[rng.IntN(len(genHours))])*time.Hour),
				Segments: []string{genSegments[rng.IntN(len(genSegments))]},
				CTA:      genCTAs[rng.IntN(len(genCTAs))],
				Template: genTemplates[rng.IntN(len(genTemplates))],
			}
			target, live := "local", "L"+strconv.Itoa(k)
			if k%4 == 3 {
				target, live = "hubspot", strconv.Itoa(1000+k)
				art.LiveIDs = map[string]string{target: live}
			}
			cat.Artifacts = append(cat.Artifacts, art)
			open := 0.2
			if strings.Contains(art.Subject, "?") {
				open += 0.15 * cfg.lift
			}
			if strings.Contains(art.Subject, "contact.") {
				open += 0.08 * cfg.lift
			}
			if len(art.Subject) > 60 {
				open -= 0.1 * cfg.lift
			}
			click := 0.25
			if art.CTA == "Book a demo" {
				click += 0.15 * cfg.lift
			}
			start := rng.IntN(cfg.contacts)
			for r := range cfg.recipients {
				who := contact((start + r*7919) % cfg.contacts)
				at := art.SentAt
				ev := func(typ string, d time.Duration) Event {
					return Event{ID: id(), Type: typ, Source: target + ":events", Contact: who, Target: target, LiveID: live, At: at.Add(d)}
				}
				emit(ev(Sent, 0))
				if rng.Float64() < 0.03 {
					emit(ev(Bounce, time.Minute))
					continue
				}
				emit(ev(Delivered, time.Minute))
				if rng.Float64() >= open {
					if rng.Float64() < 0.005 {
						emit(ev(Unsubscribe, time.Hour))
					}
					continue
				}
				opened := time.Duration(1+rng.IntN(48)) * time.Hour
				emit(ev(Open, opened))
				if rng.Float64() < 0.2 {
					emit(ev(Open, opened+24*time.Hour))
				}
				if rng.Float64() >= click {
					continue
				}
				clicked := opened + time.Duration(1+rng.IntN(30))*time.Minute
				landing := "https://example.com/p" + strconv.Itoa(c) + "?utm_campaign=" + utm + "&utm_content=" + art.ID
				cl := ev(Click, clicked)
				cl.URL = landing
				emit(cl)
				pv := Event{ID: id(), Type: PageView, Source: "local:events", Contact: who, Target: "local", LiveID: page.LiveIDs["local"], At: at.Add(clicked + time.Minute), URL: landing}
				if rng.IntN(2) == 0 {
					pv.Target, pv.LiveID, pv.Source = "", "", "site:analytics"
				}
				emit(pv)
				switch x := rng.Float64(); {
				case x < 0.2:
					emit(Event{ID: id(), Type: FormSubmission, Source: "local:events", Contact: who, Target: "local", LiveID: page.LiveIDs["local"], At: pv.At.Add(2 * time.Minute)})
				case x < 0.25:
					cur := "USD"
					if rng.IntN(3) == 0 {
						cur = "EUR"
					}
					emit(Event{ID: id(), Type: Purchase, Source: "shop:orders", Contact: who, At: pv.At.Add(time.Duration(1+rng.IntN(20*24)) * time.Hour), Value: &Money{Minor: int64(1000 + rng.IntN(20000)), Currency: cur}})
				case x < 0.26:
					emit(Event{ID: id(), Type: "survey_answered", Source: "typeform:responses", Contact: who, At: pv.At.Add(time.Hour)})
				}
			}
		}
	}
	return cat
}

// collect generates a history into memory.
func collect(cfg genConfig) (Catalog, []Event) {
	var events []Event
	cat := generate(cfg, func(e Event) { events = append(events, e) })
	return cat, events
}
