package sandbox

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/internal/osfile"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/store"
)

// aggregateFile keeps the outcomes aggregate between processes, with the
// sequence of the last kept event it covers: a process just started reads
// it and then only the events kept after, where reading every kept event
// took seconds a million (docs/benchmarks.md, the closed loop).
const aggregateFile = "outcomes.aggregate"

// saveAggregateEvery is how many events taken into the aggregate since it
// was last written make it worth writing again (126 MB at 10,000,000
// events, a second or so).
var saveAggregateEvery uint64 = 100_000

const aggregateHeader = "lastmile outcomes aggregate of"

// loadAggregate reads the kept aggregate and the sequence it covers, if
// it belongs to this store: the event it ends at must be the one the
// store holds at that sequence. Anything else (no file, another store's,
// another version, damaged) is nil, and the caller builds the aggregate
// from the events.
func (s *Sandbox) loadAggregate(ctx context.Context) (*outcomes.Aggregate, uint64) {
	path := filepath.Join(s.dataDir, aggregateFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0
	}
	if err != nil {
		s.log.Warn("outcomes aggregate not read; building it from the kept events", "path", path, "err", err)
		return nil, 0
	}
	defer f.Close()
	r := bufio.NewReader(f)
	agg, last, err := s.readAggregate(ctx, r)
	if err != nil {
		s.log.Warn("outcomes aggregate not used; building it from the kept events", "path", path, "err", err)
		return nil, 0
	}
	return agg, last
}

func (s *Sandbox) readAggregate(ctx context.Context, r *bufio.Reader) (*outcomes.Aggregate, uint64, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, 0, fmt.Errorf("no header: %w", err)
	}
	f := strings.Fields(strings.TrimPrefix(line, aggregateHeader))
	if !strings.HasPrefix(line, aggregateHeader) || len(f) != 2 {
		return nil, 0, errors.New("not an outcomes aggregate")
	}
	last, err := strconv.ParseUint(f[0], 16, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("header: %w", err)
	}
	held, err := s.keptEventDigest(ctx, last)
	if err != nil {
		return nil, 0, err
	}
	if held != f[1] {
		return nil, 0, fmt.Errorf("made from other events than this store's (at %s)", seqKey(last))
	}
	agg, err := outcomes.ReadAggregate(r)
	if err != nil {
		return nil, 0, err
	}
	return agg, last, nil
}

// keptEventDigest is the SHA-256 of the kept event at sequence seq as the
// store holds it, "" when it holds none: what ties an aggregate file to
// the events it was made from.
func (s *Sandbox) keptEventDigest(ctx context.Context, seq uint64) (string, error) {
	var digest string
	err := s.st.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(bOutcomeLog, seqKey(seq))
		if v != nil {
			sum := sha256.Sum256(v)
			digest = hex.EncodeToString(sum[:])
		}
		return err
	})
	return digest, err
}

// saveAggregate writes the aggregate, covering the kept events up to
// sequence last, whole or not at all.
func (s *Sandbox) saveAggregate(ctx context.Context, agg *outcomes.Aggregate, last uint64) error {
	digest, err := s.keptEventDigest(ctx, last)
	if err == nil && digest == "" {
		err = fmt.Errorf("no kept event at %s", seqKey(last))
	}
	if err != nil {
		return err
	}
	path := filepath.Join(s.dataDir, aggregateFile)
	tmp, err := os.CreateTemp(s.dataDir, aggregateFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // once renamed, there is nothing to remove
	// WriteTo buffers what it writes; the header is one write before it.
	if _, err := fmt.Fprintf(tmp, "%s %s %s\n", aggregateHeader, seqKey(last), digest); err != nil {
		tmp.Close()
		return err
	}
	if _, err := agg.WriteTo(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := osfile.DataSync(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return osfile.SyncDir(s.dataDir)
}
