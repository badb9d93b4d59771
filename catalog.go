package sluice

import (
	"encoding/json"
	"sort"
	"sync"

	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
)

// queryInfo is a persistent query as the catalog records it.
type queryInfo struct {
	ID      string            `json:"id"`
	SQL     string            `json:"sql"`     // the CSAS/CTAS/INSERT INTO statement
	Props   map[string]string `json:"props"`   // session properties it was created with
	Sink    string            `json:"sink"`    // the source it writes to
	Sources []string          `json:"sources"` // the sources it reads
	Kind    string            `json:"kind"`    // "PERSISTENT" (CSAS/CTAS) or "INSERT"
}

// catalog is the engine's local view of the metastore: streams, tables,
// custom types and persistent queries. It is derived state: the command
// topic is its source of truth (DESIGN.md decision 2), and a snapshot of it
// is kept in Pebble with the command-topic offset it reflects so that a
// restart replays only newer commands.
//
// catalog implements planner.Catalog. It is safe for concurrent use.
type catalog struct {
	mu       sync.RWMutex
	sources  map[string]*planner.Source
	types    map[string]*sql.Type
	queries  map[string]*queryInfo
	order    []string // query ids in creation order
	nextID   int      // ksqlDB counts query ids per engine: CSAS_X_0, CTAS_Y_1, ...
	nextCmd  int64    // the next command-topic offset to apply
	declared []string // source names in creation order
}

func newCatalog() *catalog {
	return &catalog{
		sources: map[string]*planner.Source{},
		types:   map[string]*sql.Type{},
		queries: map[string]*queryInfo{},
	}
}

var _ planner.Catalog = (*catalog)(nil)

func (c *catalog) Source(name string) (*planner.Source, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.sources[name]
	return s, ok
}

func (c *catalog) Type(name string) (*sql.Type, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.types[name]
	return t, ok
}

// sortedSources returns every source sorted by name.
func (c *catalog) sortedSources() []*planner.Source {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*planner.Source, 0, len(c.sources))
	for _, s := range c.sources {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// queryList returns the persistent queries in creation order.
func (c *catalog) queryList() []*queryInfo {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*queryInfo, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, c.queries[id])
	}
	return out
}

func (c *catalog) query(id string) (*queryInfo, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	q, ok := c.queries[id]
	return q, ok
}

// readersAndWriters returns the ids of the queries that read from and write
// to the source named name.
func (c *catalog) readersAndWriters(name string) (readers, writers []string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, id := range c.order {
		q := c.queries[id]
		if q.Sink == name {
			writers = append(writers, id)
		}
		for _, s := range q.Sources {
			if s == name {
				readers = append(readers, id)
				break
			}
		}
	}
	return readers, writers
}

// snapshot is the JSON form of a catalog kept in Pebble.
type snapshot struct {
	Sources []*planner.Source    `json:"sources"`
	Types   map[string]*sql.Type `json:"types"`
	Queries []*queryInfo         `json:"queries"`
	NextID  int                  `json:"nextId"`
	NextCmd int64                `json:"nextCmd"`
}

func (c *catalog) marshal() ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := snapshot{Types: c.types, NextID: c.nextID, NextCmd: c.nextCmd}
	for _, n := range c.declared {
		s.Sources = append(s.Sources, c.sources[n])
	}
	for _, id := range c.order {
		s.Queries = append(s.Queries, c.queries[id])
	}
	return json.Marshal(s)
}

func (c *catalog) unmarshal(b []byte) error {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sources = map[string]*planner.Source{}
	c.declared = nil
	for _, src := range s.Sources {
		c.sources[src.Name] = src
		c.declared = append(c.declared, src.Name)
	}
	c.types = s.Types
	if c.types == nil {
		c.types = map[string]*sql.Type{}
	}
	c.queries = map[string]*queryInfo{}
	c.order = nil
	for _, q := range s.Queries {
		c.queries[q.ID] = q
		c.order = append(c.order, q.ID)
	}
	c.nextID, c.nextCmd = s.NextID, s.NextCmd
	return nil
}
