package sluice

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
	"github.com/sluicedb/sluice/storage"
)

// insertValues writes one record, encoded with the target's formats, to the
// target's topic.
func (e *Engine) insertValues(ctx context.Context, st *sql.InsertValues, props map[string]string) (*Rows, error) {
	row, err := planner.BindInsertValues(e.cat, st, planner.Props(props))
	if err != nil {
		return nil, err
	}
	key, err := codec.EncodeValue(nil, row.KeySpec, row.Key)
	if err != nil {
		return nil, sql.Errorf(sql.CodeDataException, st.TargetAt, "cannot serialize the key for %s: %v", st.Target, err)
	}
	val, err := codec.EncodeValue(nil, row.ValueSpec, row.Value)
	if err != nil {
		return nil, sql.Errorf(sql.CodeDataException, st.TargetAt, "cannot serialize the value for %s: %v", st.Target, err)
	}
	ts := time.Now().UnixMilli()
	if row.Timestamp != nil {
		ts = *row.Timestamp
	}
	rec := &kgo.Record{Topic: row.Source.Topic, Key: key, Value: val, Timestamp: time.UnixMilli(ts)}
	if err := e.producer.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return nil, fmt.Errorf("insert into %s: %w", st.Target, err)
	}
	return newResultRows(Result{Tag: "INSERT 0 1"}), nil
}

func textCols(names ...string) []Column {
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i] = Column{Name: n, Type: "STRING"}
	}
	return cols
}

func textRow(vals ...string) Row {
	r := Row{Values: make([]any, len(vals))}
	for i, v := range vals {
		r.Values[i] = v
	}
	return r
}

func formatName(f planner.Format) string {
	if f.Name == "" {
		return "KAFKA"
	}
	return f.Name
}

func (e *Engine) show(ctx context.Context, st *sql.Show, props map[string]string) (*Rows, error) {
	switch st.What {
	case sql.ShowStreams, sql.ShowTables:
		want := sql.KindStream
		name := "Stream Name"
		if st.What == sql.ShowTables {
			want, name = sql.KindTable, "Table Name"
		}
		var rows []Row
		for _, s := range e.cat.sortedSources() {
			if s.Kind != want {
				continue
			}
			rows = append(rows, textRow(s.Name, s.Topic, formatName(s.KeyFormat), formatName(s.ValueFormat),
				strconv.FormatBool(s.Window != nil)))
		}
		return newStaticRows(textCols(name, "Kafka Topic", "Key Format", "Value Format", "Windowed"), rows), nil
	case sql.ShowQueries:
		var rows []Row
		for _, qi := range e.cat.queryList() {
			state := "UNKNOWN"
			e.mu.Lock()
			if q := e.queries[qi.ID]; q != nil {
				q.errMu.Lock()
				state = q.state
				q.errMu.Unlock()
			}
			e.mu.Unlock()
			topic := ""
			if s, ok := e.cat.Source(qi.Sink); ok {
				topic = s.Topic
			}
			rows = append(rows, textRow(qi.ID, qi.Kind, state, qi.Sink, topic, qi.SQL))
		}
		return newStaticRows(textCols("Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic", "Query String"), rows), nil
	case sql.ShowTopics:
		topics, err := e.kafka.ListTopics(ctx)
		if err != nil {
			return nil, err
		}
		var rows []Row
		for _, t := range topics {
			if strings.HasPrefix(t.Name, "_sluice-") && !st.Extended {
				continue
			}
			rows = append(rows, textRow(t.Name, strconv.Itoa(int(t.Partitions)), strconv.Itoa(int(t.Replicas))))
		}
		return newStaticRows(textCols("Kafka Topic", "Partitions", "Partition Replicas"), rows), nil
	case sql.ShowProperties:
		all := mergeProps(knownProperties, props)
		var rows []Row
		for _, k := range sortedKeys(all) {
			scope := "default"
			if _, ok := props[k]; ok {
				scope = "set"
			}
			rows = append(rows, textRow(k, scope, all[k]))
		}
		return newStaticRows(textCols("Property", "Scope", "Value"), rows), nil
	case sql.ShowFunctions:
		var rows []Row
		for _, f := range expr.Functions() {
			rows = append(rows, textRow(f.Name, f.Category))
		}
		return newStaticRows(textCols("Function Name", "Category"), rows), nil
	case sql.ShowTypes:
		var rows []Row
		e.cat.mu.RLock()
		for n, t := range e.cat.types {
			rows = append(rows, textRow(n, t.String()))
		}
		e.cat.mu.RUnlock()
		return newStaticRows(textCols("Type Name", "Schema"), rows), nil
	}
	return nil, sql.Errorf(sql.CodeFeatureNotSupported, st.Position(), "this SHOW is not supported")
}

func (e *Engine) describe(ctx context.Context, st *sql.Describe) (*Rows, error) {
	if st.Function {
		for _, f := range expr.Functions() {
			if f.Name == st.Name {
				var rows []Row
				rows = append(rows, textRow("Name", f.Name), textRow("Category", f.Category),
					textRow("Description", f.Description))
				for _, sig := range f.Signatures {
					rows = append(rows, textRow("Variation", sig))
				}
				return newStaticRows(textCols("Property", "Value"), rows), nil
			}
		}
		return nil, sql.Errorf(sql.CodeUndefinedFunction, st.NameAt, "Can't find any functions with the name '%s'", st.Name).
			WithHint("SHOW FUNCTIONS lists them")
	}
	if st.All != 0 {
		show := &sql.Show{What: st.All, Extended: st.Extended}
		return e.show(ctx, show, nil)
	}
	src, ok := e.cat.Source(st.Name)
	if !ok {
		return nil, sql.Errorf(sql.CodeUndefinedTable, st.NameAt, "Could not find STREAM/TABLE '%s' in the Metastore", st.Name).
			WithHint("SHOW STREAMS and SHOW TABLES list what exists; unquoted names are upper-cased")
	}
	var rows []Row
	for _, c := range src.Columns {
		typ := c.Type.String()
		switch c.Role {
		case sql.ColKey:
			typ += " (key)"
		case sql.ColPrimaryKey:
			typ += " (primary key)"
		case sql.ColHeaders:
			typ += " (headers)"
		case sql.ColHeader:
			typ += " (header('" + c.HeaderKey + "'))"
		}
		rows = append(rows, textRow(c.Name, typ))
	}
	if !st.Extended {
		return newStaticRows(textCols("Field", "Type"), rows), nil
	}
	info := [][2]string{
		{"Name", src.Name},
		{"Type", strings.ToUpper(kindWord(src.Kind))},
		{"Kafka topic", fmt.Sprintf("%s (partitions: %d, replication: %d)", src.Topic, src.Partitions, src.Replicas)},
		{"Key format", formatName(src.KeyFormat)},
		{"Value format", formatName(src.ValueFormat)},
		{"Timestamp field", orNotSet(src.TimestampColumn)},
		{"Statement", src.SQL},
	}
	readers, writers := e.cat.readersAndWriters(src.Name)
	info = append(info, [2]string{"Queries that read from this source", strings.Join(readers, ", ")},
		[2]string{"Queries that write to this source", strings.Join(writers, ", ")})
	for _, id := range append(readers, writers...) {
		e.mu.Lock()
		q := e.queries[id]
		e.mu.Unlock()
		if q == nil {
			continue
		}
		m := q.metrics
		last := ""
		if p := m.LastErrorText.Load(); p != nil {
			last = *p
		}
		info = append(info, [2]string{id + " metrics", fmt.Sprintf(
			"records-in: %d, records-out: %d, decode-errors: %d, eval-errors: %d, late-records: %d, null-key-drops: %d, unknown-key-tombstones: %d, last-error: %s",
			m.RecordsIn.Load(), m.RecordsOut.Load(), m.DecodeErrors.Load(), m.EvalErrors.Load(), m.LateRecords.Load(),
			m.DroppedNulls.Load(), m.UnknownTombstones.Load(), orNotSet(last))})
		keys, size, err := e.stateSize(id)
		if err != nil {
			return nil, fmt.Errorf("describe %s: state of %s: %w", src.Name, id, err)
		}
		info = append(info, [2]string{id + " state", fmt.Sprintf("keys: %d, bytes: %d", keys, size)})
		info = append(info, [2]string{id + " partitions on this instance", q.ownedText()},
			[2]string{id + " commits on this instance", q.commitsText()})
	}
	for _, kv := range info {
		rows = append(rows, textRow(kv[0], kv[1]))
	}
	return newStaticRows(textCols("Field", "Type"), rows), nil
}

// stateSize counts the keys a query's stateful operators keep in Pebble,
// over all its stages ("<id>" and "<id>#n") and partitions, and their bytes
// (keys and values). It reads the query's keys: a diagnostic, not a hot
// path.
func (e *Engine) stateSize(queryID string) (keys, size int64, err error) {
	// Every stage's prefix starts with these bytes (so do those of
	// queries whose id extends this one, which are skipped).
	raw := append([]byte{byte(storage.NamespaceOperator)}, queryID...)
	it, err := e.state.Iter(raw)
	if err != nil {
		return 0, 0, err
	}
	defer it.Close()
	for ok := it.First(); ok; {
		p, _, err := storage.DecodePrefix(it.Key())
		if err != nil {
			return 0, 0, err
		}
		if p.Query != queryID && !strings.HasPrefix(p.Query, queryID+"#") {
			stage := storage.AppendString([]byte{byte(storage.NamespaceOperator)}, p.Query)
			ok = it.SeekGE(storage.PrefixEnd(stage))
			continue
		}
		keys++
		size += int64(len(it.Key()) + len(it.Value()))
		ok = it.Next()
	}
	return keys, size, it.Error()
}

func orNotSet(s string) string {
	if s == "" {
		return "Not set"
	}
	return s
}

func (e *Engine) explain(ctx context.Context, st *sql.Explain, props map[string]string) (*Rows, error) {
	var text string
	switch {
	case st.QueryID != "":
		e.mu.Lock()
		q := e.queries[st.QueryID]
		e.mu.Unlock()
		if q == nil {
			return nil, sql.Errorf(sql.CodeUndefinedObject, st.Position(), "Query with id:%s does not exist", st.QueryID).
				WithHint("SHOW QUERIES lists the running queries")
		}
		text = q.plan.Explain
	default:
		var plan *planner.Plan
		var err error
		switch s := st.Stmt.(type) {
		case *sql.Query:
			plan, err = planner.PlanQuery(e.cat, s.Select, planner.Props(props))
		case *sql.CreateSource:
			if s.Query == nil {
				return nil, sql.Errorf(sql.CodeFeatureNotSupported, st.Position(), "EXPLAIN needs a query: SELECT, CREATE ... AS SELECT or INSERT INTO ... SELECT")
			}
			plan, _, err = planner.PlanPersistent(e.cat, s, "EXPLAIN", planner.Props(props))
		case *sql.InsertInto:
			plan, _, err = planner.PlanPersistent(e.cat, s, "EXPLAIN", planner.Props(props))
		default:
			return nil, sql.Errorf(sql.CodeFeatureNotSupported, st.Position(), "EXPLAIN needs a query: SELECT, CREATE ... AS SELECT or INSERT INTO ... SELECT")
		}
		if err != nil {
			return nil, err
		}
		text = plan.Explain
	}
	var rows []Row
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		rows = append(rows, textRow(line))
	}
	return newStaticRows(textCols("QUERY PLAN"), rows), nil
}
