package sandbox

import (
	"context"
	"strings"

	"github.com/lastmile/lastmile/store"
)

// Migrations are the steps that bring a store written by an older lastmile
// to the layout this one writes (store.SchemaVersion). New runs them.
var Migrations = []store.Migration{
	{To: 2, Name: "an artifact's head and revisions in one bucket", Apply: nestArtifacts},
}

// Schema 1 buckets, read only by nestArtifacts.
const (
	v1Artifacts = "artifacts" // artifact id → Artifact
	v1Revisions = "revisions" // artifact id/%010d → Revision
)

// nestArtifacts moves schema 1's heads and revisions into the artifact's
// own bucket. Values move as they are; the emptied schema 1 buckets stay
// behind, empty.
func nestArtifacts(tx store.Tx) error {
	_, err := moveSchema1(tx)
	return err
}

// moveSchema1 moves what is in the schema 1 buckets to where schema 2
// keeps it, unless schema 2 already has an entry there: that entry was
// written since the migration and is kept, and the schema 1 entry is left
// where it is (kept counts them).
func moveSchema1(tx store.Tx) (kept int, err error) {
	move := func(from, key, bucket, to string, value []byte) error {
		if have, err := tx.Get(bucket, to); err != nil || have != nil {
			kept++
			return err
		}
		if err := tx.Put(bucket, to, value); err != nil {
			return err
		}
		return tx.Delete(from, key)
	}
	heads, err := tx.Scan(v1Artifacts, "", "", 0)
	if err != nil {
		return 0, err
	}
	for _, kv := range heads {
		if err := move(v1Artifacts, kv.Key, artifactBucket(kv.Key), headKey, kv.Value); err != nil {
			return kept, err
		}
	}
	revs, err := tx.Scan(v1Revisions, "", "", 0)
	if err != nil {
		return kept, err
	}
	for _, kv := range revs {
		i := strings.LastIndexByte(kv.Key, '/')
		if i < 0 {
			continue // not a revision key; leave it where it is
		}
		if err := move(v1Revisions, kv.Key, artifactBucket(kv.Key[:i]), kv.Key[i+1:], kv.Value); err != nil {
			return kept, err
		}
	}
	return kept, nil
}

// adoptSchema1Writes moves what a lastmile of schema 1 wrote after the data
// was migrated: a server started before the upgrade keeps running, and
// keeps writing the old layout. Every start looks (two counts) and moves
// what it finds, so nothing such a server staged is lost from view.
func (s *Sandbox) adoptSchema1Writes(ctx context.Context) error {
	stray := 0
	if err := s.st.View(ctx, func(tx store.Tx) error {
		for _, b := range []string{v1Artifacts, v1Revisions} {
			n, err := tx.Count(b, "", 1)
			if err != nil {
				return err
			}
			stray += n
		}
		return nil
	}); err != nil || stray == 0 {
		return err
	}
	kept := 0
	err := s.st.Update(ctx, func(tx store.Tx) (err error) {
		kept, err = moveSchema1(tx)
		return err
	})
	if err == nil && kept > 0 {
		s.log.Warn("entries an older lastmile wrote after the upgrade conflict with newer ones; the newer are kept, the older left in the store's schema 1 buckets", "entries", kept)
	}
	return err
}
