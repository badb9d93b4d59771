package qtt

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// pushIdle is how long a push query may stay silent, after the queries have
// consumed their inputs, before the runner stops reading it.
const pushIdle = 500 * time.Millisecond

// runREST plays a REST query-validation case: the statements before the
// first SELECT are executed, the inputs are produced and consumed by the
// persistent queries, then each SELECT runs through Engine.Query (a pull
// query to its end, a push query up to its LIMIT or until it goes quiet)
// and its header and rows are compared with the expected response.
// Expected topic contents (INSERT VALUES) are compared as in QTT files.
func runREST(ctx context.Context, c *Case, b *broker, eng Target, res *Result) {
	exp := c.expected()
	var admin, queries []string
	for i, s := range c.Statements {
		if firstWord(s) == "SELECT" {
			queries = c.Statements[i:]
			break
		}
		admin = append(admin, s)
	}
	for _, q := range queries {
		if firstWord(q) != "SELECT" {
			res.failf("bad test: %q follows a query; admin statements must come first", q)
			return
		}
	}
	for i, s := range admin {
		res.detail("statement %d: %s", i+1, s)
		if err := eng.Exec(ctx, s); err != nil {
			if exp != nil && ctx.Err() == nil {
				checkError(res, exp, stageStatement, err, linesBefore(admin[:i]))
			} else {
				res.failf("statement %d failed: %s", i+1, errText(err))
			}
			return
		}
	}
	recs, err := encodeInputs(c.Test.Inputs, eng.Sources())
	if err != nil {
		res.failf("%v", err)
		return
	}
	if err := b.produce(ctx, recs); err != nil {
		res.failf("producing inputs: %v", err)
		return
	}
	if err := eng.RunUntilIdle(ctx); err != nil {
		res.failf("running the queries: %s", errText(err))
		return
	}
	var expected [][]QueryResponse
	for _, r := range c.Test.Responses {
		if r.Query != nil {
			expected = append(expected, r.Query)
		}
	}
	for qi, q := range queries {
		res.detail("query %d: %s", qi+1, q)
		var want []QueryResponse
		if qi < len(expected) {
			want = expected[qi]
		}
		header, rows, err := runQuery(ctx, eng, q, countRows(want))
		if err != nil {
			if exp != nil && ctx.Err() == nil {
				checkError(res, exp, stageStatement, err, linesBefore(admin)+linesBefore(queries[:qi]))
			} else {
				res.failf("query %d failed: %s", qi+1, errText(err))
			}
			return
		}
		if qi < len(expected) {
			anyOrder := pullsFromTable(q, eng.Sources())
			compareResponse(fmt.Sprintf("query %d", qi+1), want, header, rows, anyOrder, res)
		}
	}
	if exp != nil {
		res.failf("expected an error (%s) but every statement succeeded", describeExpected(exp))
		return
	}
	if len(queries) > len(expected) {
		res.diff("the test expects %d query responses for %d queries", len(expected), len(queries))
	}
	if len(c.Test.Outputs) > 0 {
		verifyOutputs(ctx, c, b, eng.Sources(), res)
	}
}

func countRows(want []QueryResponse) int {
	n := 0
	for _, w := range want {
		if w.Row != nil {
			n++
		}
	}
	return n
}

// runQuery runs a pull or push query and collects its rows. A push query
// is read until it ends (LIMIT), or until it has returned at least
// wantRows rows and then stays quiet for pushIdle, or stays quiet for
// pushIdle after the persistent queries went idle.
func runQuery(ctx context.Context, eng Target, q string, wantRows int) ([]sluice.Column, []sluice.Row, error) {
	rows, err := eng.Query(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	ch := make(chan sluice.Row)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for rows.Next() {
			select {
			case ch <- rows.Row():
			case <-ctx.Done():
				return
			}
		}
	}()
	push := isPushQuery(q)
	if push {
		// In manual drive a push query may only advance while the engine
		// runs; give it a turn.
		if err := eng.RunUntilIdle(ctx); err != nil {
			return nil, nil, err
		}
	}
	var got []sluice.Row
	for {
		var idle <-chan time.Time
		if push {
			idle = time.After(pushIdle)
		}
		select {
		case r := <-ch:
			got = append(got, r)
			continue
		case <-ended:
			// ch is unbuffered: every row the reader sent has been received.
			return rows.Columns(), got, rows.Err()
		case <-idle:
			return rows.Columns(), got, nil
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("query did not finish: %w (got %d of %d rows)", ctx.Err(), len(got), wantRows)
		}
	}
}

// compareResponse compares a query's header and rows with the expected
// response elements (finalMessage is not compared). With anyOrder the rows
// may come in any order: upstream's expectations for pull queries over a
// table are order-free (pull-queries-with-predicates' "between operator"
// case expects key '11' before '10' from one scan of a table and '10'
// before '11' from another scan of the same table), since ksqlDB merges the
// rows of the table's partitions as they arrive.
func compareResponse(label string, want []QueryResponse, cols []sluice.Column, rows []sluice.Row, anyOrder bool, res *Result) {
	var wantRows [][]json.RawMessage
	for _, w := range want {
		if w.Header != nil {
			exp, err := parseSchema(w.Header.Schema)
			if err != nil {
				res.diff("%s: %v", label, err)
			} else if got, err := columnsSchema(cols); err != nil {
				res.diff("%s: %v", label, err)
			} else if d := compareSchemas(exp, got); d != "" {
				res.diff("%s: header %s", label, d)
			}
		}
		if w.Row != nil {
			wantRows = append(wantRows, w.Row.Columns)
		}
	}
	for i, r := range wantRows {
		res.detail("%s expected row %d: %s", label, i, renderRawRow(r))
	}
	for i, r := range rows {
		res.detail("%s actual row %d: %s", label, i, renderValue(rowValues(r)))
	}
	if len(rows) != len(wantRows) {
		res.diff("%s: expected %d rows, got %d", label, len(wantRows), len(rows))
	}
	exps := make([][]any, len(wantRows))
	for i, raw := range wantRows {
		for _, col := range raw {
			v, err := parseExpected(col)
			if err != nil {
				res.diff("%s: row %d: %v", label, i, err)
				return
			}
			exps[i] = append(exps[i], v)
		}
	}
	if anyOrder && len(rows) == len(exps) && matchAnyOrder(exps, rows) {
		return
	}
	shown := 0
	for i := 0; i < len(rows) && i < len(exps); i++ {
		if d := compareValue(exps[i], rowValues(rows[i]), fmt.Sprintf("row[%d]", i)); d != "" {
			if shown < maxDiffsPerTopic {
				res.diff("%s: %s", label, d)
			}
			shown++
		}
	}
}

// matchAnyOrder reports whether rows and exps (of the same length) pair up
// one to one, each actual row matching a distinct expected row.
func matchAnyOrder(exps [][]any, rows []sluice.Row) bool {
	used := make([]bool, len(exps))
	for _, r := range rows {
		got := rowValues(r)
		found := false
		for j, exp := range exps {
			if !used[j] && compareValue(exp, got, "row") == "" {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func renderRawRow(cols []json.RawMessage) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = compactJSON(c)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// columnsSchema turns result columns into a schema for comparison.
func columnsSchema(cols []sluice.Column) ([]schemaColumn, error) {
	out := make([]schemaColumn, len(cols))
	for i, c := range cols {
		p := &schemaParser{s: c.Type}
		t, err := p.typ()
		if err != nil {
			return nil, fmt.Errorf("column %s has type %q: %w", c.Name, c.Type, err)
		}
		role := sql.ColValue
		if c.Key {
			role = sql.ColKey
		}
		out[i] = schemaColumn{Name: c.Name, Type: t, Role: role}
	}
	return out, nil
}

func rowValues(r sluice.Row) any {
	out := make([]any, len(r.Values))
	for i, v := range r.Values {
		out[i] = goValue(v)
	}
	return out
}

// goValue converts a value of the engine's Go representation (package
// exec/expr) into the comparator's actual-value model, the way ksqlDB's
// REST API serializes it to JSON.
func goValue(v any) any {
	switch x := v.(type) {
	case nil, bool, int32, int64, float64, string, []byte:
		return x
	case expr.Decimal:
		return decimal{unscaled: x.V.BigInt(), scale: x.Scale}
	case expr.Date:
		return time.UnixMilli(int64(x) * 86400000).UTC().Format("2006-01-02")
	case expr.Time:
		return time.UnixMilli(int64(x)).UTC().Format("15:04:05")
	case expr.Timestamp:
		return time.UnixMilli(int64(x)).UTC().Format("2006-01-02T15:04:05.000")
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = goValue(e)
		}
		return out
	case *expr.Map:
		out := make(map[string]any, len(x.Keys))
		for i, k := range x.Keys {
			ks, ok := goValue(k).(string)
			if !ok {
				ks = renderValue(goValue(k))
			}
			out[ks] = goValue(x.Values[i])
		}
		return out
	case *expr.Struct:
		out := make(map[string]any, len(x.Names))
		for i, n := range x.Names {
			out[n] = goValue(x.Values[i])
		}
		return out
	}
	return fmt.Sprintf("%v", v)
}
