package sluice

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
	"github.com/sluicedb/sluice/storage"
)

// materializedStore names the state store in which the final stage of a
// CTAS query keeps the table it writes: Kafka key bytes -> 8-byte big-endian
// record time followed by the value bytes. Its changelog is the sink topic
// itself, so it has none of its own.
const materializedStore = "Materialized"

// materializer wraps a sink's emit so that every record the sink writes is
// also applied to the task's materialized store.
func materializer(ts *taskState, produce func(*kgo.Record)) (func(*kgo.Record), error) {
	store := ts.openLocal(materializedStore)
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
			"The `%s` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_%s AS SELECT * FROM %s'.",
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
	for p := int32(0); p < final.parts; p++ {
		recs, err := e.scanMaterialized(final.name, p, src.Topic)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			continue
		}
		t, err := tq.task(p, collect)
		if err != nil {
			return nil, err
		}
		err = t.Process(ctx, recs)
		if err == nil {
			err = t.Flush(ctx)
		}
		if errors.Is(err, done) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return newStaticRows(columnsOf(plan.Output, true), rows), nil
}

// scanMaterialized reads one task's materialized table as records of topic.
func (e *Engine) scanMaterialized(stage string, p int32, topic string) ([]*kgo.Record, error) {
	prefix := storage.Prefix{Namespace: storage.NamespaceOperator, Query: stage,
		Operator: storeID(materializedStore), Partition: p}.Bytes()
	it, err := e.state.Iter(prefix)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var recs []*kgo.Record
	for ok := it.First(); ok; ok = it.Next() {
		v := it.Value()
		if len(v) < 8 {
			return nil, fmt.Errorf("materialized row of %s is corrupt (%d bytes)", stage, len(v))
		}
		recs = append(recs, &kgo.Record{
			Topic:     topic,
			Partition: p,
			Offset:    int64(len(recs)),
			Key:       append([]byte(nil), it.Key()[len(prefix):]...),
			Value:     append([]byte(nil), v[8:]...),
			Timestamp: time.UnixMilli(int64(binary.BigEndian.Uint64(v[:8]))),
		})
	}
	return recs, it.Error()
}
