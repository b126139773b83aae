package projections

import "sync"

// maxCachedAnswers bounds the answers an answerCache keeps.
const maxCachedAnswers = 64

// answerCache keeps the answers to a projection's questions computed at
// its latest position in the log: a question that came when the log was at
// position at or before is answered by one computed there. Storing an
// answer at a later position forgets the others; past maxCachedAnswers
// they are all forgotten. Answers are shared: callers must not modify
// them. It is safe for concurrent use.
type answerCache[V any] struct {
	mu sync.Mutex
	m  map[string]V
	at uint64
}

// get returns the answer to key computed at position at or later.
func (c *answerCache[V]) get(key string, at uint64) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	if !ok || c.at < at {
		var zero V
		return zero, false
	}
	return v, true
}

// put keeps v, the answer to key at position at, unless answers at a
// later position are kept already.
func (c *answerCache[V]) put(key string, at uint64, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.m == nil || at > c.at:
		c.m, c.at = map[string]V{}, at
	case at < c.at:
		return
	case len(c.m) >= maxCachedAnswers:
		clear(c.m)
	}
	c.m[key] = v
}

// reset forgets every answer.
func (c *answerCache[V]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m, c.at = nil, 0
}
