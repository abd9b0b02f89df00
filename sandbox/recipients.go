package sandbox

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// recipientSum is an address's SHA-256, lower case and without spaces: its
// RecipientKey before it is written as hex. Audiences are kept as sorted
// sums, 32 bytes a recipient; a map of hex keys took about a hundred, so a
// send to half a million held 50 MB for the approved set alone.
type recipientSum [sha256.Size]byte

func sumOf(addr string) recipientSum {
	return sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(addr))))
}

// compareSums orders sums as their hex keys sort.
func compareSums(a, b recipientSum) int {
	if c := cmp.Compare(binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])); c != 0 {
		return c
	}
	return bytes.Compare(a[8:], b[8:])
}

// sortSums sorts sums as compareSums orders them. SHA-256 sums are spread
// evenly, so a pass that moves each into a bucket by its leading bits (in
// place, about one sum a bucket) leaves buckets of a sum or two to sort:
// linear, where a comparison sort of 50,000 sums took a good part of a
// plan's time.
func sortSums(s []recipientSum) {
	if len(s) < 1024 {
		slices.SortFunc(s, compareSums)
		return
	}
	shift := 64 - min(16, bits.Len(uint(len(s))))
	bucket := func(x *recipientSum) int { return int(binary.BigEndian.Uint64(x[:8]) >> shift) }
	n := 1 << (64 - shift)
	next, end := make([]int, n), make([]int, n) // each bucket's next place to fill, and its end
	for i := range s {
		end[bucket(&s[i])]++
	}
	at := 0
	for b := range n {
		next[b] = at
		at += end[b]
		end[b] = at
	}
	for b := range n {
		for next[b] < end[b] {
			// Carry the sum found here to its bucket, and the one found
			// there on, until one belongs here.
			x := s[next[b]]
			for t := bucket(&x); t != b; t = bucket(&x) {
				s[next[t]], x = x, s[next[t]]
				next[t]++
			}
			s[next[b]] = x
			next[b]++
		}
	}
	start := 0
	for b := range n {
		if end[b]-start > 16 { // keys not made here need not be spread
			slices.SortFunc(s[start:end[b]], compareSums)
		}
		for i := start + 1; i < end[b]; i++ { // insertion: a bucket holds few
			for j := i; j > start && compareSums(s[j], s[j-1]) < 0; j-- {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
		start = end[b]
	}
}

// RecipientKey is the key of an address in a RecipientSet and in the plan's
// audience record: a SHA-256 of the address, lower case, without spaces.
func RecipientKey(addr string) string {
	sum := sumOf(addr)
	return hex.EncodeToString(sum[:])
}

// RecipientSet is an approved audience, kept as keys of the addresses.
type RecipientSet struct {
	sums []recipientSum // sorted, distinct
}

// NewRecipientSet makes a set from RecipientKey values. A value that is
// no key can match no address, and is left out.
func NewRecipientSet(keys []string) *RecipientSet {
	s := &RecipientSet{sums: make([]recipientSum, 0, len(keys))}
	for _, k := range keys {
		if sum, ok := parseKey(k); ok {
			s.sums = append(s.sums, sum)
		}
	}
	sortSums(s.sums)
	s.sums = slices.Compact(s.sums)
	return s
}

func parseKey[T string | []byte](k T) (recipientSum, bool) {
	var sum recipientSum
	if len(k) != 2*len(sum) {
		return sum, false
	}
	for i := range sum {
		hi, ok1 := fromHex(k[2*i])
		lo, ok2 := fromHex(k[2*i+1])
		if !ok1 || !ok2 {
			return sum, false
		}
		sum[i] = hi<<4 | lo
	}
	return sum, true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// rawAudience marks a stored audience written as its sums end to end, 32
// bytes a recipient (audienceBytes). Plans stored before held a JSON array
// of hex keys, twice the size, whose commit was a good part of a plan's
// time; JSON never starts with this byte, so both forms read.
const rawAudience = 0x01

// audienceBytes is an audience as the store keeps it: rawAudience, then
// the sorted sums.
func audienceBytes(sums []recipientSum) []byte {
	b := make([]byte, 1, 1+len(sums)*sha256.Size)
	b[0] = rawAudience
	for i := range sums {
		b = append(b, sums[i][:]...)
	}
	return b
}

// readAudience reads a stored audience: audienceBytes' form, or the JSON
// array of RecipientKeys plans stored before it (read without a string per
// key when written compactly, as lastmile wrote it).
func readAudience(data []byte) (*RecipientSet, error) {
	if len(data) > 0 && data[0] == rawAudience {
		raw := data[1:]
		if len(raw)%sha256.Size != 0 {
			return nil, fmt.Errorf("a stored audience of %d bytes is no whole number of %d-byte keys", len(raw), sha256.Size)
		}
		s := &RecipientSet{sums: make([]recipientSum, len(raw)/sha256.Size)}
		for i := range s.sums {
			copy(s.sums[i][:], raw[i*sha256.Size:])
		}
		if !slices.IsSortedFunc(s.sums, compareSums) {
			sortSums(s.sums)
		}
		s.sums = slices.Compact(s.sums)
		return s, nil
	}
	s := &RecipientSet{}
	rest, ok := bytes.CutPrefix(data, []byte("["))
	for ok && len(rest) > 0 && rest[0] != ']' {
		var sum recipientSum
		if len(rest) < 2*len(sum)+3 || rest[0] != '"' || rest[2*len(sum)+1] != '"' {
			ok = false
			break
		}
		if sum, ok = parseKey(rest[1 : 2*len(sum)+1]); !ok {
			break
		}
		s.sums = append(s.sums, sum)
		rest = rest[2*len(sum)+2:]
		if rest[0] == ',' {
			rest = rest[1:]
		}
	}
	if !ok || !bytes.Equal(rest, []byte("]")) {
		var keys []string
		if err := json.Unmarshal(data, &keys); err != nil {
			return nil, err
		}
		return NewRecipientSet(keys), nil
	}
	sortSums(s.sums)
	s.sums = slices.Compact(s.sums)
	return s, nil
}

func (s *RecipientSet) has(sum recipientSum) bool {
	_, ok := slices.BinarySearchFunc(s.sums, sum, compareSums)
	return ok
}

// Allows reports whether addr was in the approved audience. A nil set
// allows everyone (the target could not list the audience at planning).
func (s *RecipientSet) Allows(addr string) bool {
	return s == nil || s.has(sumOf(addr))
}

// Keys are the set's RecipientKey values; nil for a nil set.
func (s *RecipientSet) Keys() []string {
	if s == nil {
		return nil
	}
	out := make([]string, len(s.sums))
	for i := range s.sums {
		out[i] = hex.EncodeToString(s.sums[i][:])
	}
	return out
}

// Len is the number of approved recipients.
func (s *RecipientSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.sums)
}

// recipientKeys turns addresses into sorted, distinct sums and the digest
// of their keys.
func recipientKeys(addrs []string) ([]recipientSum, string) {
	sums := make([]recipientSum, len(addrs))
	for i, a := range addrs {
		sums[i] = sumOf(a)
	}
	sortSums(sums)
	sums = slices.Compact(sums)
	h := sha256.New()
	var line [2*sha256.Size + 1]byte
	line[len(line)-1] = '\n'
	for i := range sums {
		hex.Encode(line[:], sums[i][:])
		h.Write(line[:])
	}
	return sums, "sha256:" + hex.EncodeToString(h.Sum(nil))
}
