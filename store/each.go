package store

import (
	"encoding/json"
	"fmt"
)

// eachPage bounds how many entries ListJSON holds from one Scan.
const eachPage = 500

// ListJSON decodes every value of bucket as a T, in key order, a page of
// Scan at a time; what names an entry in a decoding error ("approver").
func ListJSON[T any](tx Tx, bucket, what string) ([]T, error) {
	var out []T
	for after := ""; ; {
		kvs, err := tx.Scan(bucket, "", after, eachPage)
		if err != nil {
			return nil, err
		}
		for _, kv := range kvs {
			var v T
			if err := json.Unmarshal(kv.Value, &v); err != nil {
				return nil, fmt.Errorf("%s %s: %w", what, kv.Key, err)
			}
			out = append(out, v)
		}
		if len(kvs) < eachPage {
			return out, nil
		}
		after = kvs[len(kvs)-1].Key
	}
}
