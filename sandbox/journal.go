package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/internal/osfile"
	"github.com/lastmile/lastmile/store"
)

// The promotion journal is an append-only file per plan. Before each step
// the promoter records its intent, after it the result, each synced to disk
// before going on. It is the source of truth for what a promotion did: the
// store's bindings and audit entries are written from it when an attempt
// ends, and again by the next attempt if a crash came first.
//
// Beside bbolt it is a file of the data directory, because a bbolt commit
// costs two syncs plus a database open and a journal record costs one
// sync. A store that several hosts share (PostgreSQL) keeps the journals
// itself (store.Journaler), so any replica can resume any promotion.

// Journal record types.
const (
	recIntent = "intent"
	recResult = "result"
	recFailed = "failed"
	// recInFlight extends a running attempt's LandBy: a connector may send
	// its create again (after an ambiguous failure, say) long after the
	// intent was written, and each send can land until LandWithin after it.
	recInFlight = "in_flight"
)

type journalRecord struct {
	Step  int        `json:"step"`
	Key   string     `json:"key"`
	Type  string     `json:"type"`
	Live  *LiveState `json:"live,omitempty"`
	Error string     `json:"error,omitempty"`
	// Skipped says why an irreversible step was not taken: the platform
	// cannot do it (the plan said so) and the rest of the plan goes on.
	Skipped string    `json:"skipped,omitempty"`
	At      time.Time `json:"at"`
	// LandBy, on an intent, is when the step's request can no longer take
	// effect on the platform (At plus the target's LandWithin): until then
	// a lookup by marker that finds nothing proves nothing.
	LandBy time.Time `json:"land_by,omitzero"`
	// Class, on a failure, is the ErrorClass of the error. A failure the
	// platform answered definitely (rejected, auth, rate_limited) applied
	// nothing, so its attempt's LandBy no longer counts.
	Class string `json:"class,omitempty"`
}

// stepState is what the journal says about one step.
type stepState struct {
	intent bool
	result *journalRecord
	failed *journalRecord
	// lands holds, per attempt, when its request could still take effect;
	// zero for attempts that certainly applied nothing.
	lands []time.Time
}

// landBy is the latest time an earlier attempt's write may still take
// effect on the platform; zero when none may.
func (st *stepState) landBy() time.Time {
	var t time.Time
	if st == nil {
		return t
	}
	for _, l := range st.lands {
		if l.After(t) {
			t = l
		}
	}
	return t
}

// ErrPromotionBusy means another process is promoting the plan right now.
var ErrPromotionBusy = errors.New("another session is promoting this plan right now")

// promotionJournal is a plan's journal held by this process: a file of
// the data directory (fileJournal), or the store's own (storeJournal).
type promotionJournal interface {
	// append writes one record and returns once it is durable. After any
	// failure, every append fails.
	append(r journalRecord) error
	close() error
}

// openJournal takes the plan's journal: the store's when it keeps
// journals, else the file in the data directory.
func (s *Sandbox) openJournal(ctx context.Context, planID string) (promotionJournal, error) {
	if s.journals == nil {
		return openFileJournal(s.dataDir, planID)
	}
	j, err := s.journals.OpenJournal(ctx, planID)
	if errors.Is(err, store.ErrJournalBusy) {
		return nil, ErrPromotionBusy
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &storeJournal{j: j, ctx: context.WithoutCancel(ctx)}, nil
}

// readJournal returns the plan's records (see readFileJournal).
func (s *Sandbox) readJournal(ctx context.Context, planID string) ([]journalRecord, error) {
	if s.journals == nil {
		return readFileJournal(s.dataDir, planID)
	}
	raw, err := s.journals.ReadJournal(ctx, planID)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	out := make([]journalRecord, 0, len(raw))
	for _, line := range raw {
		var rec journalRecord
		if json.Unmarshal(line, &rec) == nil {
			out = append(out, rec)
		}
	}
	return out, nil
}

// journalNames lists the plans that have a journal.
func (s *Sandbox) journalNames(ctx context.Context) ([]string, error) {
	if s.journals != nil {
		return s.journals.JournalNames(ctx)
	}
	files, err := filepath.Glob(filepath.Join(s.dataDir, "journal", "*.jsonl"))
	if err != nil {
		return nil, err
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".jsonl")
	}
	return names, nil
}

// storeJournal is a journal the store keeps. Its records are written
// even when the promotion's caller has gone (ctx has no cancel): what a
// platform did must be recorded.
type storeJournal struct {
	j   store.Journal
	ctx context.Context
}

func (j *storeJournal) append(r journalRecord) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := j.j.Append(j.ctx, data); err != nil {
		return fmt.Errorf("%w: %w", errJournalBroken, err)
	}
	return nil
}

func (j *storeJournal) close() error { return j.j.Close() }

// fileJournal is a plan's journal file, locked by this process.
type fileJournal struct {
	mu sync.Mutex
	f  *os.File
	// sync makes what was written durable (osfile.DataSync; tests fail it).
	sync func(*os.File) error
	// Group commit: records written and records known durable. A record's
	// append returns once a sync that began after it was written has
	// finished; steps running at once share syncs.
	written, synced uint64
	syncing         bool
	cond            *sync.Cond
	// err is the first write or sync failure, returned by every append
	// after it. A failed fsync may have dropped written pages while
	// marking them clean (Linux does), so a later sync that succeeds proves
	// nothing about the records before it; a failed write may have left
	// part of a record. Either way the file can no longer be trusted to
	// hold what the promoter was told it holds.
	err error
}

// errJournalBroken wraps the failure that made a journal unusable.
var errJournalBroken = errors.New("journal: an earlier write or sync failed; nothing more is recorded")

func journalPath(dir, planID string) string {
	return filepath.Join(dir, "journal", planID+".jsonl")
}

// openFileJournal opens the plan's journal file and takes its lock, which the kernel
// releases if the process dies, so a crashed promotion can be resumed at
// once and a live one is never run twice.
//
// The file is not opened O_APPEND: on Windows an append-only handle may not
// truncate, which dropTornTail must. Only the lock holder writes, so
// writing from the end it found is as good.
func openFileJournal(dir, planID string) (*fileJournal, error) {
	path := journalPath(dir, planID)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := osfile.TryLock(f, osfile.Exclusive); err != nil {
		f.Close()
		if errors.Is(err, osfile.ErrLocked) {
			return nil, ErrPromotionBusy
		}
		return nil, fmt.Errorf("lock journal: %w", err)
	}
	if err := dropTornTail(f); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &fileJournal{f: f, sync: osfile.DataSync}
	j.cond = sync.NewCond(&j.mu)
	return j, nil
}

// dropTornTail cuts a partial last line left by a process that died inside a
// write, so the next record starts on a line of its own.
func dropTornTail(f *os.File) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return err
	}
	if data[len(data)-1] == '\n' {
		return nil
	}
	return f.Truncate(int64(bytes.LastIndexByte(data, '\n') + 1))
}

func (j *fileJournal) close() error { return j.f.Close() }

// append writes one record and returns once it is on disk. After any
// failure, every append fails (see journal.err).
func (j *fileJournal) append(r journalRecord) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return fmt.Errorf("%w: %w", errJournalBroken, j.err)
	}
	if _, err := j.f.Write(append(data, '\n')); err != nil {
		j.err = err
		return fmt.Errorf("journal: %w", err)
	}
	j.written++
	mine := j.written
	for j.synced < mine {
		if j.err != nil {
			// The sync that was to cover this record failed.
			return fmt.Errorf("journal: %w", j.err)
		}
		if j.syncing {
			j.cond.Wait() // a sync is under way; it may not cover us: check again
			continue
		}
		j.syncing = true
		upTo := j.written
		j.mu.Unlock()
		err := j.sync(j.f)
		j.mu.Lock()
		j.syncing = false
		if err == nil {
			j.synced = max(j.synced, upTo)
		} else if j.err == nil {
			j.err = err
		}
		j.cond.Broadcast()
	}
	return nil
}

// readFileJournal returns the plan's records. A torn last line (the process
// died inside a write, before the sync) is ignored: a record counts only
// once it is whole.
func readFileJournal(dir, planID string) ([]journalRecord, error) {
	f, err := os.Open(journalPath(dir, planID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []journalRecord
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 && bytes.HasSuffix(line, []byte{'\n'}) {
			var rec journalRecord
			if json.Unmarshal(line, &rec) == nil {
				out = append(out, rec)
			}
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// states folds records into per-step states. A failed record is cleared by
// a later intent (the step was retried).
func states(recs []journalRecord) map[int]*stepState {
	out := map[int]*stepState{}
	for i := range recs {
		r := &recs[i]
		st := out[r.Step]
		if st == nil {
			st = &stepState{}
			out[r.Step] = st
		}
		switch r.Type {
		case recIntent:
			st.intent, st.failed = true, nil
			st.lands = append(st.lands, r.LandBy)
		case recInFlight:
			if n := len(st.lands); n > 0 && r.LandBy.After(st.lands[n-1]) {
				st.lands[n-1] = r.LandBy
			}
		case recResult:
			st.result = r
		case recFailed:
			st.failed = r
			if definite(r.Class) && len(st.lands) > 0 {
				st.lands[len(st.lands)-1] = time.Time{}
			}
		}
	}
	return out
}
