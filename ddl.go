package sluice

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
)

// commit appends cmd to the command topic, applies it to the catalog and
// saves the catalog snapshot. The caller holds ddlMu and has validated cmd
// against the current catalog, so the statement either takes effect whole or
// not at all: nothing is half created.
func (e *Engine) commit(ctx context.Context, cmd *command) error {
	b, err := cmd.encode()
	if err != nil {
		return err
	}
	off, err := e.cmdlog.Append(ctx, "", b)
	if err != nil {
		return fmt.Errorf("append to command topic: %w", err)
	}
	e.cat.apply(off, cmd)
	if err := e.saveCatalog(); err != nil {
		// The command topic has the command; a restart replays it.
		e.log.Warn("save catalog snapshot", "err", err)
	}
	return nil
}

// lockDDL serializes catalog changes and brings the catalog up to date with
// commands other instances may have appended.
func (e *Engine) lockDDL(ctx context.Context) (unlock func(), err error) {
	e.ddlMu.Lock()
	if err := e.catchUpCommands(ctx); err != nil {
		e.ddlMu.Unlock()
		return nil, err
	}
	// Commands of other instances that the follower has not applied yet
	// may have started or stopped queries.
	if err := e.reconcileQueries(ctx); err != nil {
		e.log.Error("start or stop queries of other instances' commands", "err", err)
	}
	return e.ddlMu.Unlock, nil
}

func kindWord(k sql.SourceKind) string {
	if k == sql.KindTable {
		return "table"
	}
	return "stream"
}

func capitalize(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// checkExisting applies CREATE [OR REPLACE] ... [IF NOT EXISTS] to a name
// that may already exist. It returns the existing source (nil if none), or
// the result rows that end the statement (IF NOT EXISTS), or the error.
func (e *Engine) checkExisting(st *sql.CreateSource) (*planner.Source, *Rows, error) {
	old, ok := e.cat.Source(st.Name)
	if !ok {
		return nil, nil, nil
	}
	word, oldWord := kindWord(st.Kind), kindWord(old.Kind)
	switch {
	case st.IfNotExists:
		return old, newResultRows(Result{Tag: "CREATE " + strings.ToUpper(word),
			Message: fmt.Sprintf("Cannot add %s %s: A %s with the same name already exists.", word, st.Name, oldWord)}), nil
	case !st.OrReplace || old.Kind != st.Kind:
		err := sql.Errorf(sql.CodeDuplicateObject, st.NameAt,
			"Cannot add %s '%s': A %s with the same name already exists", word, st.Name, oldWord)
		if old.Kind == st.Kind {
			err = err.WithHint("use CREATE OR REPLACE, or DROP %s %s first", strings.ToUpper(oldWord), st.Name)
		}
		return old, nil, err
	}
	return old, nil, nil
}

func (e *Engine) createSource(ctx context.Context, st *sql.CreateSource, props map[string]string) (*Rows, error) {
	unlock, err := e.lockDDL(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	word := kindWord(st.Kind)
	if _, rows, err := e.checkExisting(st); rows != nil || err != nil {
		return rows, err
	}
	src, err := planner.BindCreateSource(e.cat, st, planner.Props(props))
	if err != nil {
		return nil, err
	}
	if err := e.ensureTopic(ctx, src, st.With.Get("PARTITIONS") != nil, st.NameAt); err != nil {
		return nil, err
	}
	if err := e.commit(ctx, &command{SQL: st.Text(), Props: props, PutSource: src}); err != nil {
		return nil, err
	}
	return newResultRows(Result{Tag: "CREATE " + strings.ToUpper(word), Message: capitalize(word) + " created"}), nil
}

// ensureTopic makes sure src's topic exists. When it is missing it is
// created if the statement gave PARTITIONS (create), and is an error
// otherwise. It sets src.Partitions to the topic's real partition count.
func (e *Engine) ensureTopic(ctx context.Context, src *planner.Source, create bool, at sql.Pos) error {
	info, ok, err := e.kafka.DescribeTopic(ctx, src.Topic)
	if err != nil {
		return fmt.Errorf("describe topic %q: %w", src.Topic, err)
	}
	if ok {
		if create && src.Partitions > 0 && info.Partitions != src.Partitions {
			return sql.Errorf(sql.CodeInvalidParameter, at,
				"A Kafka topic with the name '%s' already exists, with different partition/replica configuration than required. KSQL expects %d partitions (topic has %d)",
				src.Topic, src.Partitions, info.Partitions).
				WithHint("drop PARTITIONS from the WITH clause to use the topic as it is, or name another topic")
		}
		src.Partitions = info.Partitions
		if src.Replicas == 0 {
			src.Replicas = info.Replicas
		}
		return nil
	}
	if !create {
		return sql.Errorf(sql.CodeUndefinedObject, at, "Kafka topic does not exist: %s", src.Topic).
			WithHint("create the topic first, or add PARTITIONS (and optionally REPLICAS) to the WITH clause so that sluice creates it")
	}
	if src.Partitions <= 0 {
		src.Partitions = 1
	}
	if src.Replicas <= 0 {
		src.Replicas = 1
	}
	if err := e.kafka.CreateTopic(ctx, src.Topic, src.Partitions, src.Replicas, nil); err != nil {
		return fmt.Errorf("create topic %q: %w", src.Topic, err)
	}
	return nil
}

func (e *Engine) createAsSelect(ctx context.Context, st *sql.CreateSource, props map[string]string) (*Rows, error) {
	unlock, err := e.lockDDL(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tag := "CREATE " + strings.ToUpper(kindWord(st.Kind))
	old, rows, err := e.checkExisting(st)
	if rows != nil || err != nil {
		return rows, err
	}
	exists := old != nil
	e.cat.mu.RLock()
	n := e.cat.nextID
	e.cat.mu.RUnlock()
	prefix := "CSAS_"
	if st.Kind == sql.KindTable {
		prefix = "CTAS_"
	}
	id := fmt.Sprintf("%s%s_%d", prefix, st.Name, n)
	// CREATE OR REPLACE keeps the query that writes the sink (ksqlDB keeps
	// its id and position) and swaps its plan.
	var replaced *queryInfo
	if exists && old.Query != "" {
		if q, ok := e.cat.query(old.Query); ok {
			replaced, id = q, q.ID
		}
	}
	plan, sink, err := planner.PlanPersistent(e.cat, st, id, planner.Props(props))
	if err != nil {
		return nil, err
	}
	if _, err := timingOf(mergeProps(e.cfg.props, props)); err != nil {
		return nil, err
	}
	sink.SQL = st.Text()
	sink.Query = id
	if err := e.ensureTopic(ctx, sink, true, st.NameAt); err != nil {
		return nil, err
	}
	qi := &queryInfo{ID: id, SQL: st.Text(), Props: props, Sink: sink.Name,
		Sources: sourceNames(st.Query), Kind: "PERSISTENT"}
	next := n + 1
	if replaced != nil {
		next = n
		if err := e.stopQuery(replaced.ID); err != nil {
			return nil, err
		}
	}
	if err := e.commitStartOffsets(ctx, qi, plan); err != nil {
		return nil, err
	}
	if err := e.commit(ctx, &command{SQL: st.Text(), Props: props, PutSource: sink, Query: qi, NextQueryID: next}); err != nil {
		return nil, err
	}
	if err := e.startPlanned(ctx, qi, plan); err != nil {
		return nil, err
	}
	return newResultRows(Result{Tag: tag, Message: "Created query with ID " + id, QueryID: id}), nil
}

func (e *Engine) insertSelect(ctx context.Context, st *sql.InsertInto, props map[string]string) (*Rows, error) {
	unlock, err := e.lockDDL(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, ok := e.cat.Source(st.Target); !ok {
		return nil, sql.Errorf(sql.CodeUndefinedTable, st.TargetAt, "%s does not exist", st.Target).
			WithHint("create the stream first with CREATE STREAM %s (...) WITH (...)", st.Target)
	}
	e.cat.mu.RLock()
	n := e.cat.nextID
	e.cat.mu.RUnlock()
	id := fmt.Sprintf("INSERTQUERY_%d", n)
	if p := st.With.Get("QUERY_ID"); p != nil {
		id = strings.ToUpper(p.Value.Text)
		if _, dup := e.cat.query(id); dup {
			return nil, sql.Errorf(sql.CodeDuplicateObject, p.At, "Query ID '%s' already exists", id)
		}
	}
	plan, _, err := planner.PlanPersistent(e.cat, st, id, planner.Props(props))
	if err != nil {
		return nil, err
	}
	if _, err := timingOf(mergeProps(e.cfg.props, props)); err != nil {
		return nil, err
	}
	qi := &queryInfo{ID: id, SQL: st.Text(), Props: props, Sink: st.Target,
		Sources: sourceNames(st.Query), Kind: "INSERT"}
	if err := e.commitStartOffsets(ctx, qi, plan); err != nil {
		return nil, err
	}
	if err := e.commit(ctx, &command{SQL: st.Text(), Props: props, Query: qi, NextQueryID: n + 1}); err != nil {
		return nil, err
	}
	if err := e.startPlanned(ctx, qi, plan); err != nil {
		return nil, err
	}
	return newResultRows(Result{Tag: "INSERT", Message: "Created query with ID " + id, QueryID: id}), nil
}

// sourceNames lists the sources a SELECT reads.
func sourceNames(sel *sql.Select) []string {
	var out []string
	var walk func(r sql.Relation)
	walk = func(r sql.Relation) {
		switch r := r.(type) {
		case *sql.SourceRef:
			out = append(out, r.Name)
		case *sql.Join:
			walk(r.Left)
			out = append(out, r.Right.Name)
		}
	}
	walk(sel.From)
	return out
}

func (e *Engine) drop(ctx context.Context, st *sql.Drop, props map[string]string) (*Rows, error) {
	unlock, err := e.lockDDL(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if st.Type {
		if _, ok := e.cat.Type(st.Name); !ok {
			if st.IfExists {
				return newResultRows(Result{Tag: "DROP TYPE", Message: "Type " + st.Name + " does not exist."}), nil
			}
			return nil, sql.Errorf(sql.CodeUndefinedObject, st.NameAt, "Type %s does not exist", st.Name)
		}
		if err := e.commit(ctx, &command{SQL: st.Text(), Props: props, TypeName: st.Name, DropType: true}); err != nil {
			return nil, err
		}
		return newResultRows(Result{Tag: "DROP TYPE", Message: "Dropped type '" + st.Name + "'"}), nil
	}
	tag := "DROP " + strings.ToUpper(kindWord(st.Kind))
	src, ok := e.cat.Source(st.Name)
	if !ok {
		if st.IfExists {
			return newResultRows(Result{Tag: tag, Message: fmt.Sprintf("Source %s does not exist.", st.Name)}), nil
		}
		return nil, sql.Errorf(sql.CodeUndefinedTable, st.NameAt, "%s %s does not exist", capitalize(kindWord(st.Kind)), st.Name).
			WithHint("SHOW STREAMS and SHOW TABLES list what exists")
	}
	if src.Kind != st.Kind {
		return nil, sql.Errorf(sql.CodeDatatypeMismatch, st.NameAt, "Incompatible data source type is %s, but statement was DROP %s",
			strings.ToUpper(kindWord(src.Kind)), strings.ToUpper(kindWord(st.Kind))).
			WithHint("use DROP %s %s", strings.ToUpper(kindWord(src.Kind)), st.Name)
	}
	if st.DeleteTopic && src.IsSource {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, st.At, "Cannot delete topic for read-only source: %s", st.Name).
			WithHint("a SOURCE %s does not own its topic; drop it without DELETE TOPIC", kindWord(src.Kind))
	}
	readers, writers := e.cat.readersAndWriters(st.Name)
	if len(readers)+len(writers) > 0 {
		return nil, sql.Errorf(sql.CodeObjectInUse, st.NameAt,
			"Cannot drop %s. The following queries read from this source: [%s] and the following queries write into this source: [%s]. You need to terminate them before dropping %s",
			st.Name, strings.Join(readers, ", "), strings.Join(writers, ", "), st.Name).
			WithHint("TERMINATE the queries first")
	}
	if err := e.commit(ctx, &command{SQL: st.Text(), Props: props, DropSource: st.Name}); err != nil {
		return nil, err
	}
	if st.DeleteTopic {
		if err := e.kafka.DeleteTopic(ctx, src.Topic); err != nil {
			return nil, fmt.Errorf("source %s was dropped but deleting topic %q failed: %w", st.Name, src.Topic, err)
		}
	}
	return newResultRows(Result{Tag: tag, Message: fmt.Sprintf("Source `%s` (topic: %s) was dropped.", st.Name, src.Topic)}), nil
}

func (e *Engine) terminate(ctx context.Context, st *sql.Terminate) (*Rows, error) {
	unlock, err := e.lockDDL(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var ids []string
	if st.All {
		for _, q := range e.cat.queryList() {
			ids = append(ids, q.ID)
		}
	} else {
		if _, ok := e.cat.query(st.QueryID); !ok {
			return nil, sql.Errorf(sql.CodeUndefinedObject, st.Position(), "Unknown queryId: %s", st.QueryID).
				WithHint("SHOW QUERIES lists the running queries")
		}
		ids = []string{st.QueryID}
	}
	var stopped []*persistentQuery
	for _, id := range ids {
		e.mu.Lock()
		if q := e.queries[id]; q != nil {
			stopped = append(stopped, q)
		}
		e.mu.Unlock()
		if err := e.stopQuery(id); err != nil {
			return nil, err
		}
	}
	if len(ids) > 0 {
		// Terminated queries no longer own their sinks.
		cmd := &command{SQL: st.Text(), Terminate: ids}
		if err := e.commit(ctx, cmd); err != nil {
			return nil, err
		}
	}
	for _, q := range stopped {
		// Its state, groups and internal topics (cleanup.go).
		e.terminated(q)
	}
	return newResultRows(Result{Tag: "TERMINATE", Message: "Query terminated."}), nil
}

func (e *Engine) createType(ctx context.Context, st *sql.CreateType, props map[string]string) (*Rows, error) {
	unlock, err := e.lockDDL(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, ok := e.cat.Type(st.Name); ok {
		if st.IfNotExists {
			return newResultRows(Result{Tag: "CREATE TYPE", Message: "Type " + st.Name + " already exists."}), nil
		}
		return nil, sql.Errorf(sql.CodeDuplicateObject, st.Position(), "Cannot register custom type '%s' since it is already registered", st.Name)
	}
	t, err := planner.ResolveType(e.cat, st.Type)
	if err != nil {
		return nil, err
	}
	if err := e.commit(ctx, &command{SQL: st.Text(), Props: props, TypeName: st.Name, PutType: t}); err != nil {
		return nil, err
	}
	return newResultRows(Result{Tag: "CREATE TYPE", Message: "Registered custom type with name '" + st.Name + "'"}), nil
}
