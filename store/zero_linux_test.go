package store

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// After a write, the space just past the data is written (no hole), so the
// next commits allocate no blocks; and the data is untouched.
func TestZeroAhead(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	big := make([]byte, 20<<10)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	for i := range 50 {
		if err := s.Update(ctx, func(tx Tx) error { return tx.Put("b/"+string(rune('a'+i%26)), string(rune('0'+i)), big) }); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	db, err := bolt.Open(filepath.Join(dir, boltFile), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var end int64
	db.View(func(tx *bolt.Tx) error { end = tx.Size(); return nil })
	db.Close()

	f, err := os.Open(filepath.Join(dir, boltFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const seekHole = 4 // SEEK_HOLE on Linux
	hole, err := syscall.Seek(int(f.Fd()), end, seekHole)
	if err != nil {
		t.Skipf("SEEK_HOLE unsupported here: %v", err)
	}
	if hole < end+zeroLow {
		t.Errorf("a hole %d bytes past the end of the data; want at least %d written", hole-end, zeroLow)
	}
	buf := make([]byte, zeroLow)
	if _, err := f.ReadAt(buf, end); err != nil {
		t.Fatal(err)
	}
	for i, c := range buf {
		if c != 0 {
			t.Fatalf("byte %d past the end is %d, not zero", i, c)
		}
	}

	s, err = OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []byte
	s.View(ctx, func(tx Tx) error { got, _ = tx.Get("b/x", string(rune('0'+49))); return nil })
	if string(got) != string(big) {
		t.Fatalf("after reopening, the last value reads back %d bytes, not the %d written", len(got), len(big))
	}
}
