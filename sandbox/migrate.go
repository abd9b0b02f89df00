package sandbox

import (
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
	heads, err := tx.Scan(v1Artifacts, "", "", 0)
	if err != nil {
		return err
	}
	for _, kv := range heads {
		if err := tx.Put(artifactBucket(kv.Key), headKey, kv.Value); err != nil {
			return err
		}
		if err := tx.Delete(v1Artifacts, kv.Key); err != nil {
			return err
		}
	}
	revs, err := tx.Scan(v1Revisions, "", "", 0)
	if err != nil {
		return err
	}
	for _, kv := range revs {
		i := strings.LastIndexByte(kv.Key, '/')
		if i < 0 {
			continue // not a revision key; leave it where it is
		}
		if err := tx.Put(artifactBucket(kv.Key[:i]), kv.Key[i+1:], kv.Value); err != nil {
			return err
		}
		if err := tx.Delete(v1Revisions, kv.Key); err != nil {
			return err
		}
	}
	return nil
}
