package sluice

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/internal/pgclient"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
	"github.com/sluicedb/sluice/storage"
)

// materializedStore names the state store in which the final stage of a
// CTAS query keeps the table it writes: Kafka key bytes -> 8-byte big-endian
// record time followed by the value bytes. It has a changelog like any
// store, so a task that moves to another instance (or a new data
// directory) gets its rows back: the sink topic cannot serve, because the
// sink's partitioning (by output key, windowed or not) differs from the
// task's.
const materializedStore = "Materialized"

// materializer wraps a sink's emit so that every record the sink writes is
// also applied to the task's materialized store.
func materializer(ts *taskState, produce func(*kgo.Record)) (func(*kgo.Record), error) {
	store, err := ts.open(materializedStore)
	if err != nil {
		return nil, err
	}
	var buf []byte
	return func(r *kgo.Record) {
		produce(r)
		var err error
		if r.Value == nil {
			err = store.Delete(r.Key)
		} else {
			buf = binary.BigEndian.AppendUint64(buf[:0], uint64(r.Timestamp.UnixMilli()))
			err = store.Put(r.Key, append(buf, r.Value...))
		}
		if err != nil {
			ts.e.log.Error("materialize table row", "stage", ts.stage, "err", err)
		}
	}, nil
}

// pullTable answers a pull query over a table from the table's materialized
// state: the rows the writing query's tasks keep in Pebble are fed, as
// records, through the same decode, filter and projection pipeline as a
// push query, and the query ends.
func (e *Engine) pullTable(ctx context.Context, st *sql.Query, plan *planner.Plan, props map[string]string) (*Rows, error) {
	ref, ok := st.Select.From.(*sql.SourceRef)
	if !ok {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, st.Position(), "Pull queries don't support JOIN clauses.").
			WithHint("add EMIT CHANGES if you intended to issue a push query")
	}
	src, ok := e.cat.Source(ref.Name)
	if !ok {
		return nil, sql.Errorf(sql.CodeUndefinedTable, ref.At, "%s does not exist", ref.Name)
	}
	if src.Query == "" {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, ref.At,
			"The `%s` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_%s AS SELECT * FROM %s'. See https://cnfl.io/queries for more info.",
			src.Name, src.Name, src.Name).
			WithHint("pull queries read tables that a query materializes")
	}
	e.mu.Lock()
	q := e.queries[src.Query]
	e.mu.Unlock()
	if q == nil {
		return nil, sql.Errorf(sql.CodeObjectInUse, ref.At, "table %s is not materialized here: its query %s is not running", src.Name, src.Query)
	}
	final := q.stages[len(q.stages)-1]
	tq := &transientQuery{e: e, plan: plan, props: props, pull: true, metrics: &exec.Metrics{},
		stateName: fmt.Sprintf("transient-%d", transientSeq.Add(1)), tasks: map[int32]*exec.Task{}}
	defer func() {
		for _, t := range tq.tasks {
			t.Close()
		}
		for _, ts := range tq.states {
			ts.close()
		}
	}()
	var rows []Row
	done := errors.New("limit reached")
	cols := resultCols(plan)
	collect := func(_ context.Context, b exec.Batch) error {
		for i := 0; i < b.Len(); i++ {
			if plan.Limit != nil && int64(len(rows)) >= *plan.Limit {
				return done
			}
			rows = append(rows, Row{Kind: b.Kind(i), Values: rowValues(b.Rec, i, cols)})
		}
		return nil
	}
	keys, lookup, err := pullKeys(plan)
	if err != nil {
		return nil, err
	}
	req := &pullRequest{stage: final, topic: src.Topic, window: plan.Input.Key.Window, keys: keys, lookup: lookup,
		text: st.Text(), props: props}
	if parts, ok := props[propPullPartitions]; ok {
		// Forwarded by another instance: its stored rows, from here only.
		return e.answerForwarded(req, parts)
	}
	// A lookup reads the named keys in the order the WHERE clause lists
	// them (as ksqlDB does), each from every partition's store; a scan
	// reads every partition's store in key order. The partitions other
	// instances own are read from them (route.go). Either way the query's
	// filter then runs over the rows read.
	reads, err := e.gather(ctx, req)
	if err != nil {
		var fe *forwardError
		if !errors.As(err, &fe) {
			return nil, err
		}
		code := sql.CodeConnectionFailure
		var pe *pgclient.Error
		if errors.As(err, &pe) {
			code = pe.Code
		}
		return nil, sql.Errorf(code, st.Position(), "pull query on %s cannot read partitions %s of %s: %v",
			src.Name, partList(fe.parts), final.name, err).
			WithHint("the instance that owns them must be reachable; after it stopped, its partitions move to the others once the group's session timeout (%s) passed", q.timing.session)
	}
	offsets := map[int32]int64{}
	for _, r := range reads {
		if len(r.recs) == 0 {
			continue
		}
		for _, rec := range r.recs {
			rec.Offset = offsets[r.p]
			offsets[r.p]++
		}
		t, err := tq.task(r.p, collect)
		if err != nil {
			return nil, err
		}
		err = t.Process(ctx, r.recs)
		if errors.Is(err, done) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	for _, t := range tq.tasks {
		if err := t.Flush(ctx); err != nil && !errors.Is(err, done) {
			return nil, err
		}
	}
	return newStaticRows(columnsOf(plan.Output, true), rows), nil
}

// pullKeys returns the Kafka key bytes (without a window) that a pull
// query over a table with one key column is limited to, in the order its
// WHERE clause names them: a top-level conjunct KEY = constant or KEY IN
// (constants). lookup is false when no conjunct pins the key: the query
// scans. The keys only narrow what is read; the query's filter still runs.
func pullKeys(plan *planner.Plan) (keys [][]byte, lookup bool, err error) {
	spec := plan.Input.Key
	if len(spec.Fields) != 1 {
		return nil, false, nil
	}
	spec.Window, spec.WindowSize = codec.NotWindowed, 0
	var pred expr.Node
	for _, op := range plan.Ops {
		if f, ok := op.(exec.FilterSpec); ok {
			pred = f.Pred
			break
		}
		if _, ok := op.(exec.ProjectSpec); ok {
			break // columns after a projection are not the source's
		}
	}
	vals, ok := pinnedKey(pred, spec.Fields[0].Type)
	if !ok {
		return nil, false, nil
	}
	seen := map[string]bool{}
	for _, v := range vals {
		if v == nil {
			continue // KEY = NULL matches nothing
		}
		k, err := codec.EncodeValue(nil, spec, []any{v})
		if err != nil {
			return nil, false, nil // not encodable as a key: scan instead
		}
		if !seen[string(k)] {
			seen[string(k)] = true
			keys = append(keys, k)
		}
	}
	return keys, true, nil
}

// pinnedKey evaluates, as values of type t, the constants that pred pins
// column 0 (the key) to: KEY = c or KEY IN (c, ...), alone or AND-ed with
// conditions that do not read the key. Anything else that reads the key
// (an OR, a range, a second condition on it) is answered by a scan, as
// ksqlDB's order of rows then is the scan's.
func pinnedKey(pred expr.Node, t arrow.DataType) ([]any, bool) {
	c, ok := pred.(*expr.Call)
	if !ok {
		return nil, false
	}
	if c.Name == "AND" {
		var pin expr.Node
		for _, a := range c.Args {
			if !readsKey(a) {
				continue
			}
			if pin != nil {
				return nil, false
			}
			pin = a
		}
		if pin == nil {
			return nil, false
		}
		return pinnedKey(pin, t)
	}
	if c.Name != "=" && c.Name != "IN" {
		return nil, false
	}
	args := c.Args
	if c.Name == "=" && isKeyCol(args[1]) {
		args = []expr.Node{args[1], args[0]}
	}
	if !isKeyCol(args[0]) {
		return nil, false
	}
	var vals []any
	for _, a := range args[1:] {
		v, ok := constValue(a, t)
		if !ok {
			return nil, false
		}
		vals = append(vals, v)
	}
	return vals, true
}

// readsKey reports whether n reads column 0.
func readsKey(n expr.Node) bool { return reads(n, func(c *expr.Col) bool { return c.Index == 0 }) }

// usesColumns reports whether n reads any column.
func usesColumns(n expr.Node) bool { return reads(n, func(*expr.Col) bool { return true }) }

// reads reports whether n reads a column that col accepts; CASE and
// lambdas are assumed to.
func reads(n expr.Node, col func(*expr.Col) bool) bool {
	switch n := n.(type) {
	case *expr.Col:
		return col(n)
	case *expr.Cast:
		return reads(n.X, col)
	case *expr.Call:
		for _, a := range n.Args {
			if reads(a, col) {
				return true
			}
		}
		return false
	case *expr.Lit:
		return false
	}
	return true
}

func isKeyCol(n expr.Node) bool {
	c, ok := n.(*expr.Col)
	return ok && c.Index == 0
}

// constValue evaluates a column-free expression as a value of type t.
func constValue(n expr.Node, t arrow.DataType) (any, bool) {
	if usesColumns(n) || !planner.IsDeterministic(n) {
		return nil, false
	}
	if !arrow.TypeEqual(n.DataType(), t) {
		if expr.CastError(n.DataType(), t) != nil {
			return nil, false
		}
		n = &expr.Cast{X: n, Type: t}
	}
	ev, err := expr.Compile(n)
	if err != nil {
		return nil, false
	}
	rec := array.NewRecord(arrow.NewSchema(nil, nil), nil, 1)
	defer rec.Release()
	failed := false
	out, err := ev.Eval(&expr.Ctx{OnRowError: func(int, error) { failed = true }}, rec)
	if err != nil || failed {
		return nil, false
	}
	defer out.Release()
	return expr.ValueAt(out, 0), true
}

// readMaterialized reads one task's materialized table as records of
// topic: every row, or with key set the rows of that key (for a windowed
// table, of every window of that key; the stored key is the key bytes and
// the window).
func (e *Engine) readMaterialized(stage string, p int32, topic string, key []byte, window codec.WindowType) ([]*kgo.Record, error) {
	prefix := storage.Prefix{Namespace: storage.NamespaceOperator, Query: stage,
		Operator: storeID(materializedStore), Partition: p}.Bytes()
	it, err := e.state.Iter(append(prefix, key...))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var recs []*kgo.Record
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()[len(prefix):]
		if key != nil && !storedKeyMatches(k, key, window) {
			continue // a longer key that starts with the same bytes
		}
		v := it.Value()
		if len(v) < 8 {
			return nil, fmt.Errorf("materialized row of %s is corrupt (%d bytes)", stage, len(v))
		}
		recs = append(recs, &kgo.Record{
			Topic:     topic,
			Partition: p,
			Key:       append([]byte(nil), k...),
			Value:     append([]byte(nil), v[8:]...),
			Timestamp: time.UnixMilli(int64(binary.BigEndian.Uint64(v[:8]))),
		})
	}
	return recs, it.Error()
}

// storedKeyMatches reports whether a materialized store's key (the key
// bytes, then for a windowed table the window) is one of key's.
func storedKeyMatches(stored, key []byte, window codec.WindowType) bool {
	want := len(key)
	switch window {
	case codec.TimeWindow:
		want += 8
	case codec.SessionWindow:
		want += 16
	}
	return len(stored) == want && bytes.HasPrefix(stored, key)
}
