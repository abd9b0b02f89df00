//go:build !unix || lastmile_portable

package osfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Words are the first WordsSize bytes of a file, read and written with file
// I/O: no mapping, so this runs on every OS. The layout (native-endian
// words) is the mapped one's, so both kinds of process can share a file.
//
// A write is not atomic with respect to a read in another process, so
// callers change words only under an exclusive lock. A read without the
// lock may see a mix of the old and new bytes of a word; a caller that only
// asks "did it change?" stays right, since a mix either differs from the
// old value or is the old value.
type Words struct {
	f *os.File
}

// OpenWords uses f's first WordsSize bytes; f must stay open meanwhile.
func OpenWords(f *os.File) (*Words, error) { return &Words{f: f}, nil }

// Load reads word i (0 or 1).
func (w *Words) Load(i int) (uint64, error) {
	var b [8]byte
	if _, err := w.f.ReadAt(b[:], int64(8*i)); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("read %s: %w", w.f.Name(), err)
	}
	return binary.NativeEndian.Uint64(b[:]), nil
}

// Store writes word i.
func (w *Words) Store(i int, v uint64) error {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], v)
	if _, err := w.f.WriteAt(b[:], int64(8*i)); err != nil {
		return fmt.Errorf("write %s: %w", w.f.Name(), err)
	}
	return nil
}

// Close does nothing: the file is the caller's.
func (w *Words) Close() error { return nil }
