package sluice

import (
	"encoding/json"
	"fmt"

	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
)

// command is one record of the command topic: a DDL statement as the user
// wrote it, the session properties it ran with, and the catalog changes its
// execution decided. Replaying applies the recorded changes rather than
// re-binding the statement, so a replay never depends on the current code's
// binder and always reproduces the catalog that the first execution built.
type command struct {
	SQL   string            `json:"sql"`
	Props map[string]string `json:"props,omitempty"`

	PutSource  *planner.Source `json:"putSource,omitempty"`
	DropSource string          `json:"dropSource,omitempty"`
	TypeName   string          `json:"typeName,omitempty"`
	PutType    *sql.Type       `json:"putType,omitempty"`
	DropType   bool            `json:"dropType,omitempty"`
	Query      *queryInfo      `json:"query,omitempty"`
	Terminate  []string        `json:"terminate,omitempty"`
	// NextQueryID is the query-id counter after this command.
	NextQueryID int `json:"nextQueryId"`
}

func (c *command) encode() ([]byte, error) { return json.Marshal(c) }

func decodeCommand(b []byte) (*command, error) {
	var c command
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode command: %w", err)
	}
	return &c, nil
}

// apply changes the catalog as cmd says; offset is cmd's command-topic
// offset. It is the one place the catalog changes, for live statements and
// for replay alike.
func (c *catalog) apply(offset int64, cmd *command) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cmd.DropSource != "" {
		delete(c.sources, cmd.DropSource)
		for i, n := range c.declared {
			if n == cmd.DropSource {
				c.declared = append(c.declared[:i:i], c.declared[i+1:]...)
				break
			}
		}
	}
	if s := cmd.PutSource; s != nil {
		if _, exists := c.sources[s.Name]; !exists {
			c.declared = append(c.declared, s.Name)
		}
		c.sources[s.Name] = s
	}
	if cmd.TypeName != "" {
		if cmd.DropType {
			delete(c.types, cmd.TypeName)
		} else {
			c.types[cmd.TypeName] = cmd.PutType
		}
	}
	for _, id := range cmd.Terminate {
		delete(c.queries, id)
		for i, o := range c.order {
			if o == id {
				c.order = append(c.order[:i:i], c.order[i+1:]...)
				break
			}
		}
	}
	if q := cmd.Query; q != nil {
		if _, exists := c.queries[q.ID]; !exists {
			c.order = append(c.order, q.ID)
		}
		c.queries[q.ID] = q
	}
	if cmd.NextQueryID > c.nextID {
		c.nextID = cmd.NextQueryID
	}
	c.nextCmd = offset + 1
}
