package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluicedb/sluice"
)

// fakeEngine is an Engine whose sessions understand a handful of test
// statements (see fakeSession.Query). It records push queries so tests can
// check that the server stopped them.
type fakeEngine struct {
	mu     sync.Mutex
	pushes []*fakeRows
}

func (e *fakeEngine) NewSession() Session {
	return &fakeSession{e: e, props: map[string]string{}}
}

// lastPush waits for the n-th push query (1-based) to start.
func (e *fakeEngine) push(n int) *fakeRows {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		e.mu.Lock()
		if len(e.pushes) >= n {
			r := e.pushes[n-1]
			e.mu.Unlock()
			return r
		}
		e.mu.Unlock()
	}
	panic(fmt.Sprintf("push query %d never started", n))
}

type fakeSession struct {
	e     *fakeEngine
	props map[string]string
}

// Query understands:
//
//	SET 'k'='v'  sets a session property (Result with a message)
//	PROPS        the session's properties as rows (K, V)
//	STATIC       one row of every column type
//	PUSH         an endless push query, one row every 10ms
//	FAILMID      one row, then an engine error
//	BAD ...      a syntax error at offset 4 of the statement
//	BOOM         an internal error whose text must not reach clients
//	SILENT       a result without a message
func (s *fakeSession) Query(ctx context.Context, stmt string) (Rows, error) {
	word, rest, _ := strings.Cut(stmt, " ")
	switch word {
	case "SET":
		k, v, _ := strings.Cut(rest, "=")
		k, v = strings.Trim(k, "'"), strings.Trim(v, "'")
		s.props[k] = v
		return resultRows(sluice.Result{Tag: "SET", Message: "Successfully changed local property '" + k + "'."}), nil
	case "SILENT":
		return resultRows(sluice.Result{Tag: "TERMINATE"}), nil
	case "PROPS":
		keys := make([]string, 0, len(s.props))
		for k := range s.props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var rows []sluice.Row
		for _, k := range keys {
			rows = append(rows, sluice.Row{Values: []any{k, s.props[k]}})
		}
		return staticRows([]sluice.Column{{Name: "K", Type: "STRING"}, {Name: "V", Type: "STRING"}}, rows, nil), nil
	case "STATIC":
		return staticRows(allTypesColumns, []sluice.Row{{Values: allTypesRow}}, nil), nil
	case "FAILMID":
		return staticRows([]sluice.Column{{Name: "N", Type: "INTEGER"}},
			[]sluice.Row{{Values: []any{int32(1)}}},
			&sluice.Error{Code: "22012", Msg: "division by zero", Hint: "guard the divisor"}), nil
	case "PUSH":
		r := pushRows(ctx)
		s.e.mu.Lock()
		s.e.pushes = append(s.e.pushes, r)
		s.e.mu.Unlock()
		return r, nil
	case "BAD":
		e := &sluice.Error{Code: "42601", Msg: "syntax error at or near \"x\"", Hint: "check the statement"}
		e.Pos.Offset, e.Pos.Line, e.Pos.Col = 4, 1, 5
		return nil, e
	case "BOOM":
		return nil, errors.New("pebble: /var/lib/secret/000042.sst: checksum mismatch")
	}
	return nil, &sluice.Error{Code: "42601", Msg: "unknown test statement " + word}
}

// fakeRows implements Rows like *sluice.Rows: rows come from a channel;
// Close stops them and may be called from any goroutine.
type fakeRows struct {
	cols   []sluice.Column
	result sluice.Result
	ch     <-chan sluice.Row
	endErr error // reported by Err once ch is drained
	cur    sluice.Row
	err    error
	once   sync.Once
	done   chan struct{}
	closed chan struct{} // closed by Close, for tests to observe
}

func resultRows(res sluice.Result) *fakeRows {
	r := staticRows(nil, nil, nil)
	r.result = res
	return r
}

func staticRows(cols []sluice.Column, rows []sluice.Row, endErr error) *fakeRows {
	ch := make(chan sluice.Row, len(rows))
	for _, r := range rows {
		ch <- r
	}
	close(ch)
	return &fakeRows{cols: cols, ch: ch, endErr: endErr, done: make(chan struct{}), closed: make(chan struct{})}
}

// pushRows produces a row every 10ms until ctx ends or Close is called.
func pushRows(ctx context.Context) *fakeRows {
	ch := make(chan sluice.Row)
	r := &fakeRows{cols: []sluice.Column{{Name: "SEQ", Type: "BIGINT"}}, ch: ch,
		done: make(chan struct{}), closed: make(chan struct{})}
	go func() {
		defer close(ch)
		for i := int64(0); ; i++ {
			select {
			case ch <- sluice.Row{Values: []any{i}}:
			case <-ctx.Done():
				return
			case <-r.done:
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return r
}

func (r *fakeRows) Columns() []sluice.Column { return r.cols }
func (r *fakeRows) Result() sluice.Result    { return r.result }
func (r *fakeRows) Row() sluice.Row          { return r.cur }
func (r *fakeRows) Err() error               { return r.err }

func (r *fakeRows) Next() bool {
	select {
	case row, ok := <-r.ch:
		if !ok {
			r.err = r.endErr
			return false
		}
		r.cur = row
		return true
	case <-r.done:
		return false
	}
}

func (r *fakeRows) Close() error {
	r.once.Do(func() {
		close(r.done)
		close(r.closed)
	})
	return nil
}
