package meta

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// usersBatch is the most addresses one POST /{audience_id}/users carries
// (the SDK examples' batch; larger uploads go in one session).
const usersBatch = 10_000

// hashedMembers is a static segment's addresses, trimmed, lower-cased,
// SHA-256 hashed (hex), deduplicated and sorted.
func hashedMembers(emails []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range emails {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		h := sha256.Sum256([]byte(e))
		x := hex.EncodeToString(h[:])
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// syncAudiences makes one custom audience (customer list) per audience
// segment, named "<segment> [<marker> s<k> m<hash of the members>]", and
// returns their ids in order, and the ids of marked audiences the revision
// no longer targets (to delete once no ad set uses them). lookup says an
// earlier attempt or revision may have made some: they are listed and
// reused by name; a reused one is uploaded again on a resumed Put (adding
// an address twice changes nothing), since the earlier upload may have
// been cut short.
func (t *Target) syncAudiences(ctx context.Context, op string, obj sandbox.Object, lookup bool) (ids, stale []string, err error) {
	a := obj.Ad
	if len(a.AudienceSegments) == 0 && !lookup {
		return nil, nil, nil
	}
	existing := map[string]string{}
	var marked []node
	if lookup {
		all, err := t.list(ctx, "/"+t.account+"/customaudiences", "id,name")
		if err != nil {
			return nil, nil, t.fail(op+": list the customer lists", err)
		}
		for _, c := range all {
			if tg, ok := tagOf(c.Name); ok && tg.marker == obj.Marker && tg.seg != "" {
				marked = append(marked, c)
				if _, dup := existing[c.Name]; !dup {
					existing[c.Name] = c.ID
				}
			}
		}
	}
	want := map[string]bool{}
	for k, segID := range a.AudienceSegments {
		seg := obj.Segments[segID]
		if seg == nil {
			return nil, nil, failf(op, nil, "audience segment %s is not in the campaign; re-plan", segID)
		}
		members := hashedMembers(seg.StaticEmails)
		name := fmt.Sprintf("%s [%s s%d m%s]", rest.Clip(seg.Name, 100), obj.Marker, k, short(strings.Join(members, ",")))
		want[name] = true
		id, found := existing[name]
		if !found {
			v := url.Values{"name": {name}, "subtype": {"CUSTOM"}, "customer_file_source": {"USER_PROVIDED_ONLY"},
				"description": {"lastmile customer list of segment " + segID + " for " + obj.Marker}}
			var res struct {
				ID string `json:"id"`
			}
			if err := t.post(ctx, "/"+t.account+"/customaudiences", v, &res); err != nil {
				return nil, nil, t.fail(fmt.Sprintf("%s: create the customer list of audience_segments[%d]", op, k), err)
			}
			id = res.ID
		}
		if !found || obj.Resumed {
			if err := t.upload(ctx, op, id, members); err != nil {
				return nil, nil, err
			}
		}
		ids = append(ids, id)
	}
	for _, c := range marked {
		if !want[c.Name] || existing[c.Name] != c.ID {
			stale = append(stale, c.ID)
		}
	}
	return ids, stale, nil
}

// upload adds the hashed members to the audience, in batches of
// usersBatch, as one session when there is more than one batch.
func (t *Target) upload(ctx context.Context, op, id string, members []string) error {
	var session int64
	if len(members) > usersBatch {
		var b [8]byte
		_, _ = rand.Read(b[:])
		session = int64(binary.BigEndian.Uint64(b[:]) >> 1)
	}
	for seq, start := 1, 0; start < len(members); seq, start = seq+1, start+usersBatch {
		batch := members[start:min(start+usersBatch, len(members))]
		v := url.Values{"payload": {jsonParam(map[string]any{"schema": "EMAIL_SHA256", "data": batch})}}
		if session != 0 {
			v.Set("session", jsonParam(map[string]any{"session_id": session, "batch_seq": seq,
				"last_batch_flag": start+usersBatch >= len(members), "estimated_num_total": len(members)}))
		}
		var res struct {
			NumReceived int `json:"num_received"`
			NumInvalid  int `json:"num_invalid_entries"`
		}
		if err := t.post(ctx, "/"+id+"/users", v, &res); err != nil {
			return t.fail(fmt.Sprintf("%s: upload %d addresses to customer list %s", op, len(batch), id), err)
		}
		if res.NumReceived != len(batch) {
			return failf(op, nil, "Meta received %d of the %d addresses sent to customer list %s; confirm again to send them again", res.NumReceived, len(batch), id)
		}
		if res.NumInvalid > 0 {
			t.log.Warn("meta: Meta found entries of a customer list upload invalid", "target", t.name, "audience", id, "invalid", res.NumInvalid)
		}
	}
	return nil
}

// removeAudiences deletes the customer lists marked for obj (when its
// campaign is removed: they hold hashed addresses and serve nothing else).
func (t *Target) removeAudiences(ctx context.Context, marker string) error {
	all, err := t.list(ctx, "/"+t.account+"/customaudiences", "id,name")
	if err != nil {
		return err
	}
	for _, c := range all {
		if tg, ok := tagOf(c.Name); ok && tg.marker == marker && tg.seg != "" {
			if err := t.remove(ctx, c.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
