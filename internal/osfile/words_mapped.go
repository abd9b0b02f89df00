//go:build unix && !lastmile_portable

package osfile

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Words are the first WordsSize bytes of a file, mapped shared, so every
// process sees every write at once and at the cost of a memory access.
type Words struct {
	mem []byte
}

// OpenWords maps f's first WordsSize bytes. f must be at least that long:
// touching a mapped page past the end of a file is a SIGBUS.
func OpenWords(f *os.File) (*Words, error) {
	m, err := unix.Mmap(int(f.Fd()), 0, WordsSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	return &Words{mem: m}, nil
}

func (w *Words) word(i int) *uint64 { return (*uint64)(unsafe.Pointer(&w.mem[8*i])) }

// Load reads word i (0 or 1).
func (w *Words) Load(i int) (uint64, error) { return atomic.LoadUint64(w.word(i)), nil }

// Store writes word i.
func (w *Words) Store(i int, v uint64) error {
	atomic.StoreUint64(w.word(i), v)
	return nil
}

// Close unmaps the words.
func (w *Words) Close() error {
	if err := unix.Munmap(w.mem); err != nil {
		return fmt.Errorf("unmap: %w", err)
	}
	return nil
}
