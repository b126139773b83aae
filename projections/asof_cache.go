package projections

import "sync"

// maxAsOfAnswers bounds the answers asOfCache keeps.
const maxAsOfAnswers = 64

// asOfCache keeps answers to "as of" questions. The log up to a sequence
// never changes, so an answer computed for a definition at a resolved
// sequence stays right for ever; without the cache every such question
// folds the log from its start again. Answers are shared: callers must not
// modify them.
type asOfCache struct {
	mu    sync.Mutex
	m     map[string]any
	order []string // insertion order, for eviction
}

// get returns the answer stored under key.
func (c *asOfCache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

// put stores an answer, evicting the oldest beyond maxAsOfAnswers.
func (c *asOfCache) put(key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]any{}
	}
	if _, ok := c.m[key]; ok {
		return
	}
	c.m[key] = v
	c.order = append(c.order, key)
	if len(c.order) > maxAsOfAnswers {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
}
