package sandbox

import (
	"context"

	"github.com/lastmile/lastmile/store"
)

// UnstageForTest removes an artifact as if it had never been staged (its
// audit entries stay), so a benchmark can stage the N-th artifact of a
// campaign again and again.
func (s *Sandbox) UnstageForTest(ctx context.Context, campaignID, id string) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(artifactBucket(id), "", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := tx.Delete(artifactBucket(id), kv.Key); err != nil {
				return err
			}
		}
		return tx.Delete(bCampaignIndex, campaignID+"/"+id)
	})
}

// CacheBytesForTest says what each cache weighs.
func (s *Sandbox) CacheBytesForTest() map[string]int64 {
	return map[string]int64{"revs": s.revs.Bytes(), "finals": s.finals.Bytes(), "checks": s.checks.Bytes(), "views": s.views.Bytes()}
}
