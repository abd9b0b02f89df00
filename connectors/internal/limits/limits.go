// Package limits files what every Target of one platform account in a
// process must share (HubSpot's rate limiter, Mailchimp's connection
// semaphore), keyed by what identifies the account. A program builds one
// Registry per connector and hands it to each Target it builds, so sharing
// needs no package-level state and two programs in one process (tests) never
// share by accident.
package limits

import "sync"

// Registry holds one value per account key. The zero value is ready to use
// and it is safe for concurrent use.
type Registry[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

// Get returns the value filed under key, made by mk the first time; mk runs
// under the registry's lock, so it is made once.
func (r *Registry[T]) Get(key string, mk func() T) T {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.m[key]; ok {
		return v
	}
	if r.m == nil {
		r.m = map[string]T{}
	}
	v := mk()
	r.m[key] = v
	return v
}

// Alias files v under key as well, unless key already has a value: an
// account learned under a second name (a portal id found after connecting
// with a token) keeps one value under both.
func (r *Registry[T]) Alias(key string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[key]; ok {
		return
	}
	if r.m == nil {
		r.m = map[string]T{}
	}
	r.m[key] = v
}
