package exec

// groupCache keeps an aggregation's decoded group states (unwindowed
// groups and time windows; sessions go through the store) between rows
// and batches, so a group touched by many rows is decoded once and
// encoded once per flush instead of once per row: decoding and encoding
// the accumulators per row was the aggregation's largest cost.
//
// The store stays the source of truth at every flush: Flush writes the
// changed groups (put) before the task commits, and a task that fails a
// cycle is replaced by one opened on the committed state, so the cache
// never outlives work that was not committed. Past maxCachedGroups
// entries, the changed groups are written and the cache is emptied.
type groupCache struct {
	groups map[string]*cachedGroup
	dirty  []string // keys of changed groups, in first-change order
}

type cachedGroup struct {
	g     *group
	dirty bool
}

// maxCachedGroups bounds the decoded groups an aggregation keeps.
const maxCachedGroups = 1 << 16

// get returns the cached group of key, if cached.
func (c *groupCache) get(key []byte) (*group, bool) {
	e := c.groups[string(key)]
	if e == nil {
		return nil, false
	}
	return e.g, true
}

// add caches the group g of key as read from the store.
func (c *groupCache) add(key []byte, g *group) {
	if c.groups == nil {
		c.groups = map[string]*cachedGroup{}
	}
	c.groups[string(key)] = &cachedGroup{g: g}
}

// changed records that g, the group of key, changed (or is new).
func (c *groupCache) changed(key []byte, g *group) {
	e := c.groups[string(key)]
	if e == nil {
		if c.groups == nil {
			c.groups = map[string]*cachedGroup{}
		}
		e = &cachedGroup{}
		c.groups[string(key)] = e
	}
	e.g = g
	if !e.dirty {
		e.dirty = true
		c.dirty = append(c.dirty, string(key))
	}
}

// remove drops key from the cache (its state is deleted from the store).
func (c *groupCache) remove(key []byte) { delete(c.groups, string(key)) }

// write calls put for every changed group still cached, then marks them
// clean; past maxCachedGroups it empties the cache.
func (c *groupCache) write(put func(key string, g *group) error) error {
	for _, k := range c.dirty {
		e := c.groups[k]
		if e == nil || !e.dirty {
			continue // removed since it changed
		}
		if err := put(k, e.g); err != nil {
			return err
		}
		e.dirty = false
	}
	clear(c.dirty)
	c.dirty = c.dirty[:0]
	if len(c.groups) > maxCachedGroups {
		c.groups = nil
	}
	return nil
}
