package sandbox

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"
)

// ID prefixes name the kind of object an id refers to.
const (
	PrefixCampaign = "cmp_"
	PrefixEmail    = "eml_"
	PrefixSegment  = "seg_"
	PrefixWorkflow = "wf_"
	PrefixPage     = "pg_"
	PrefixAd       = "ad_"
	PrefixPlan     = "pln_"
)

var kindPrefix = map[Kind]string{
	KindEmail:    PrefixEmail,
	KindSegment:  PrefixSegment,
	KindWorkflow: PrefixWorkflow,
	KindPage:     PrefixPage,
	KindAd:       PrefixAd,
}

// KindOf returns the artifact kind an id names, or "" when it names none.
func KindOf(id string) Kind {
	for k, p := range kindPrefix {
		if strings.HasPrefix(id, p) {
			return k
		}
	}
	return ""
}

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// newID returns prefix + 26 characters: 48 bits of milliseconds then 80
// random bits, in Crockford base32, so ids sort by creation time.
func newID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:])
	var sb strings.Builder
	sb.Grow(len(prefix) + 26)
	sb.WriteString(prefix)
	// 128 bits → 26 base32 digits (the top two bits of the first are zero).
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift+5 > 64:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		sb.WriteByte(crockford[v&31])
	}
	return sb.String()
}

// newCode returns a short code a human types to approve a plan: six
// characters without look-alikes (no 0/o, 1/l/i).
func newCode() string {
	const alphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	var b [6]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
