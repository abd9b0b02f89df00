package osfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// open returns two handles on one new file: locks held through one exclude
// the other, as they would another process's.
func open(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	var fs [2]*os.File
	for i := range fs {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		fs[i] = f
	}
	return fs[0], fs[1]
}

func TestLocks(t *testing.T) {
	a, b := open(t)
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"a shared", func() error { return TryLock(a, Shared) }, nil},
		{"b shared beside a shared", func() error { return TryLock(b, Shared) }, nil},
		{"b unlock", func() error { return Unlock(b) }, nil},
		{"b exclusive beside a shared", func() error { return TryLock(b, Exclusive) }, ErrLocked},
		{"a unlock", func() error { return Unlock(a) }, nil},
		{"b exclusive alone", func() error { return TryLock(b, Exclusive) }, nil},
		{"a shared beside b exclusive", func() error { return TryLock(a, Shared) }, ErrLocked},
		{"a exclusive beside b exclusive", func() error { return TryLock(a, Exclusive) }, ErrLocked},
		{"b unlock again", func() error { return Unlock(b) }, nil},
		{"a blocking exclusive, free", func() error { return Lock(a, Exclusive) }, nil},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) { // Is(err, nil) means err == nil
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.want)
		}
	}
}

// A blocked Lock returns once the holder lets go.
func TestLockWaits(t *testing.T) {
	a, b := open(t)
	if err := Lock(a, Exclusive); err != nil {
		t.Fatal(err)
	}
	got := make(chan error)
	go func() { got <- Lock(b, Shared) }()
	if err := Unlock(a); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("Lock after the holder unlocked: %v", err)
	}
}

// A locked file's contents stay readable and writable through other
// handles (on Windows the lock is on a byte where no data is).
func TestLockedFileIsReadable(t *testing.T) {
	a, b := open(t)
	if _, err := a.WriteAt([]byte("0123456789abcdef"), 0); err != nil {
		t.Fatal(err)
	}
	if err := Lock(a, Exclusive); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if _, err := b.ReadAt(buf, 0); err != nil || string(buf) != "0123456789abcdef" {
		t.Fatalf("read through another handle: %q, %v", buf, err)
	}
}

func TestWords(t *testing.T) {
	a, b := open(t)
	if err := a.Truncate(WordsSize); err != nil {
		t.Fatal(err)
	}
	wa, err := OpenWords(a)
	if err != nil {
		t.Fatal(err)
	}
	defer wa.Close()
	wb, err := OpenWords(b)
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if err := wa.Store(0, 41); err != nil {
		t.Fatal(err)
	}
	if err := wa.Store(1, 7); err != nil {
		t.Fatal(err)
	}
	if v, err := wb.Load(0); v != 41 || err != nil {
		t.Fatalf("word 0 through the other handle = %d, %v; want 41", v, err)
	}
	if v, _ := wb.Load(1); v != 7 {
		t.Fatalf("word 1 through the other handle = %d; want 7", v)
	}
}

func TestDataSync(t *testing.T) {
	a, _ := open(t)
	if _, err := a.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	if err := DataSync(a); err != nil {
		t.Fatal(err)
	}
}
