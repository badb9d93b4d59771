package qtt

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
)

// copyEngine is a test double for the runner's own tests: a tiny engine
// that understands exactly two statements,
//
//	CREATE STREAM name (columns) WITH (kafka_topic=..., key_format=...,
//	    value_format=..., window_type=..., window_size='n seconds')
//	CREATE STREAM name AS SELECT * FROM source
//
// and runs the second by copying records byte for byte, through Kafka, from
// the source's topic to the sink's (topic = the upper-cased name). Anything
// else fails with a syntax error that names the statement's last word, so
// expected-error cases can be exercised too.
type copyEngine struct {
	b       *broker
	sources []*sluice.Source
	queries []*copyQuery
	// hang makes RunUntilIdle block until its context ends (timeouts).
	hang bool
}

type copyQuery struct {
	from, to string // topics
	copied   int
}

func openCopyEngine(hang bool) OpenFunc {
	return func(ctx context.Context, cfg TargetConfig) (Target, error) {
		b, err := dialBroker(cfg.Brokers)
		if err != nil {
			return nil, err
		}
		return &copyEngine{b: b, hang: hang}, nil
	}
}

func (e *copyEngine) Exec(ctx context.Context, stmt string) error {
	ts := sqlTokens(stmt)
	syntaxErr := func() error {
		last := ""
		for _, t := range ts {
			if t.kind == 'w' {
				last = t.text
			}
		}
		return &sql.Error{Code: sql.CodeSyntax, Msg: "the copy engine does not understand the statement near " + last}
	}
	if len(ts) < 4 || !ts[0].is("CREATE") || !ts[1].is("STREAM") {
		return syntaxErr()
	}
	name := strings.ToUpper(ts[2].text)
	if ts[3].is("AS") {
		if len(ts) < 8 || !ts[4].is("SELECT") || ts[5].text != "*" || !ts[6].is("FROM") {
			return syntaxErr()
		}
		from := e.source(strings.ToUpper(ts[7].text))
		if from == nil {
			return syntaxErr()
		}
		sink := *from
		sink.Name, sink.Topic, sink.Query = name, name, fmt.Sprintf("CSAS_%s_%d", name, len(e.queries))
		if err := e.b.createTopic(ctx, sink.Topic, 1); err != nil {
			return err
		}
		e.sources = append(e.sources, &sink)
		e.queries = append(e.queries, &copyQuery{from: from.Topic, to: sink.Topic})
		return nil
	}
	// CREATE STREAM name (columns) WITH (...)
	open := strings.IndexByte(stmt, '(')
	closeAt := strings.LastIndex(stmt[:strings.Index(strings.ToUpper(stmt), " WITH")], ")")
	if open < 0 || closeAt < open {
		return syntaxErr()
	}
	cols, err := parseSchema(stmt[open+1 : closeAt])
	if err != nil {
		return &sql.Error{Code: sql.CodeSyntax, Msg: err.Error()}
	}
	src := &sluice.Source{Name: name, Kind: sql.KindStream, KeyFormat: planner.Format{Name: "KAFKA"}}
	for _, c := range cols {
		src.Columns = append(src.Columns, planner.Column{Name: c.Name, Type: c.Type, Role: c.Role})
	}
	withToks := sqlTokens(stmt[closeAt+1:])
	for i := 0; i+2 < len(withToks); i++ {
		if withToks[i].kind != 'w' || withToks[i+1].text != "=" {
			continue
		}
		v := withToks[i+2].text
		switch strings.ToUpper(withToks[i].text) {
		case "KAFKA_TOPIC":
			src.Topic = v
		case "FORMAT":
			src.KeyFormat.Name, src.ValueFormat.Name = strings.ToUpper(v), strings.ToUpper(v)
		case "KEY_FORMAT":
			src.KeyFormat.Name = strings.ToUpper(v)
		case "VALUE_FORMAT":
			src.ValueFormat.Name = strings.ToUpper(v)
		case "WINDOW_TYPE":
			if src.Window == nil {
				src.Window = &planner.Window{}
			}
			src.Window.Type = strings.ToUpper(v)
		case "WINDOW_SIZE":
			if src.Window == nil {
				src.Window = &planner.Window{}
			}
			n, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			if err != nil {
				return syntaxErr()
			}
			src.Window.Size = n * 1000
		}
	}
	e.sources = append(e.sources, src)
	return nil
}

func (e *copyEngine) source(name string) *sluice.Source {
	for _, s := range e.sources {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (e *copyEngine) Query(ctx context.Context, stmt string) (*sluice.Rows, error) {
	return nil, &sql.Error{Code: sql.CodeFeatureNotSupported, Msg: "the copy engine has no queries"}
}

func (e *copyEngine) RunUntilIdle(ctx context.Context) error {
	if e.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	for _, q := range e.queries {
		recs, err := e.b.readTopic(ctx, q.from)
		if err != nil {
			return err
		}
		var out []*kgo.Record
		for _, r := range recs[q.copied:] {
			out = append(out, &kgo.Record{Topic: q.to, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp})
		}
		if err := e.b.produce(ctx, out); err != nil {
			return err
		}
		q.copied = len(recs)
	}
	return nil
}

func (e *copyEngine) Sources() []*sluice.Source { return e.sources }

func (e *copyEngine) Close() error {
	e.b.close()
	return nil
}
