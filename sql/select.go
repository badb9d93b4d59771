package sql

import (
	"strconv"
)

// Clause ranks: ksqlDB fixes the order of the clauses of a query.
const (
	clFrom = iota + 1
	clWindow
	clWhere
	clGroup
	clPartition
	clHaving
	clEmit
	clLimit
)

var clauseNames = map[int]string{
	clFrom: "FROM", clWindow: "WINDOW", clWhere: "WHERE", clGroup: "GROUP BY",
	clPartition: "PARTITION BY", clHaving: "HAVING", clEmit: "EMIT", clLimit: "LIMIT",
}

// clause is one clause of a query: its keyword index and body range.
type clause struct {
	kind   int
	kw     int // index of the clause keyword
	lo, hi int // body
}

// selectRest parses a query starting at the SELECT keyword and running to
// the end of the statement. The streaming clauses (WINDOW, WITHIN, EMIT,
// LIMIT) and the FROM structure are parsed here; the select list, ON,
// WHERE, GROUP BY, PARTITION BY and HAVING go to TiDB in one SELECT.
func (p *parser) selectRest(_ bool) (*Select, error) {
	selTok := p.peek()
	lo, hi := p.i, p.hi
	x := &translator{toks: p.toks}
	var cls []clause
	for j := lo + 1; j < hi; j++ {
		t := p.toks[j]
		if t.isOp("(") || t.isOp("[") {
			k, err := x.match(j, hi)
			if err != nil {
				return nil, err
			}
			j = k
			continue
		}
		if t.Kind != tkIdent {
			continue
		}
		kind, width := 0, 1
		switch {
		case t.Val == "FROM":
			// IS [NOT] DISTINCT FROM is an operator, not the clause.
			if len(cls) == 0 && !p.toks[j-1].isKw("DISTINCT") {
				kind = clFrom
			}
		case len(cls) == 0:
		case t.Val == "WINDOW":
			kind = clWindow
		case t.Val == "WHERE":
			kind = clWhere
		case t.Val == "GROUP" && p.at(j+1).isKw("BY"):
			kind, width = clGroup, 2
		case t.Val == "PARTITION" && p.at(j+1).isKw("BY"):
			kind, width = clPartition, 2
		case t.Val == "HAVING":
			kind = clHaving
		case t.Val == "EMIT":
			kind = clEmit
		case t.Val == "LIMIT":
			kind = clLimit
		case t.Val == "ORDER" && p.at(j+1).isKw("BY"):
			return nil, Errorf(CodeFeatureNotSupported, t.Pos, "ORDER BY is not supported").
				WithHint("streams are unordered; drop the ORDER BY")
		}
		if kind == 0 {
			continue
		}
		if n := len(cls); n > 0 {
			prev := cls[n-1]
			if prev.kind == kind {
				return nil, Errorf(CodeSyntax, t.Pos, "duplicate %s clause", clauseNames[kind]).
					WithHint("write each clause once")
			}
			if prev.kind > kind {
				return nil, Errorf(CodeSyntax, t.Pos, "%s must come before %s", clauseNames[kind], clauseNames[prev.kind]).
					WithHint("clauses go in the order FROM, WINDOW, WHERE, GROUP BY, PARTITION BY, HAVING, EMIT, LIMIT")
			}
			cls[n-1].hi = j
		}
		cls = append(cls, clause{kind: kind, kw: j, lo: j + width, hi: hi})
		j += width - 1
	}
	if len(cls) == 0 {
		return nil, Errorf(CodeSyntax, p.at(hi).Pos, "expected FROM").
			WithHint("a query reads FROM a stream or table: SELECT * FROM s")
	}
	if cls[0].kw == lo+1 {
		return nil, Errorf(CodeSyntax, p.toks[lo+1].Pos, "expected a select list, found FROM").
			WithHint("write SELECT * or SELECT col, ...")
	}
	sel := &Select{At: selTok.Pos}
	q := &selectParts{items: tokRange{lo + 1, cls[0].kw}}
	for _, c := range cls {
		body := tokRange{c.lo, c.hi}
		if c.lo == c.hi {
			return nil, Errorf(CodeSyntax, p.at(c.hi).Pos, "missing %s body", clauseNames[c.kind]).
				WithHint("%s needs something after it", clauseNames[c.kind])
		}
		sub := &parser{src: p.src, toks: p.toks, i: c.lo, hi: c.hi}
		var err error
		switch c.kind {
		case clFrom:
			q.from, err = sub.fromClause()
		case clWindow:
			sel.Window, err = sub.window(p.toks[c.kw].Pos)
		case clWhere:
			q.where = &body
		case clGroup:
			q.group = &body
		case clPartition:
			if c.hi-c.lo == 2 && p.toks[c.lo].isOp("(") && p.toks[c.lo+1].isOp(")") {
				return nil, Errorf(CodeSyntax, p.toks[c.lo].Pos, "PARTITION BY requires at least one expression").
					WithHint("write PARTITION BY col, or PARTITION BY NULL for a stream without a key")
			}
			q.partition = &body
		case clHaving:
			q.having = &body
		case clEmit:
			sel.Emit, err = sub.emit()
		case clLimit:
			var n int64
			n, err = sub.limit()
			sel.Limit = &n
		}
		if err != nil {
			return nil, err
		}
	}
	if err := x.buildSelect(sel, q, p.at(hi).Pos); err != nil {
		return nil, err
	}
	p.i = hi
	return sel, nil
}

// selectParts are the ranges of a query handed to TiDB.
type selectParts struct {
	items                           tokRange
	from                            *fromParts
	where, group, partition, having *tokRange
}

// fromParts is the FROM structure as parsed by the front end.
type fromParts struct {
	sources []*SourceRef
	joins   []*fromJoin
}

type fromJoin struct {
	kind   JoinKind
	at     Pos
	kwText string // the join keywords as written, for TiDB
	within *Within
	on     tokRange
}

// joinStart reports whether toks[k] begins a join and how many keyword
// tokens precede the source name.
func (p *parser) joinStart(k int) (JoinKind, int, bool) {
	t := p.at(k)
	if t.isKw("JOIN") {
		return JoinInner, 1, true
	}
	n := 1
	var kind JoinKind
	switch {
	case t.isKw("INNER"):
		kind = JoinInner
	case t.isKw("LEFT"):
		kind = JoinLeft
	case t.isKw("RIGHT"):
		kind = JoinRight
	case t.isKw("FULL"):
		kind = JoinFull
	default:
		return 0, 0, false
	}
	if kind != JoinInner && p.at(k+n).isKw("OUTER") {
		n++
	}
	if !p.at(k + n).isKw("JOIN") {
		return 0, 0, false
	}
	return kind, n + 1, true
}

var notAliases = map[string]bool{
	"JOIN": true, "INNER": true, "LEFT": true, "RIGHT": true, "FULL": true, "OUTER": true,
	"ON": true, "WITHIN": true, "CROSS": true,
}

func (p *parser) sourceRef() (*SourceRef, error) {
	name, at, err := p.name("a stream or table name")
	if err != nil {
		return nil, err
	}
	ref := &SourceRef{Name: name, At: at}
	explicit := p.acceptKw("AS")
	if t := p.peek(); t.Kind == tkQIdent || t.Kind == tkIdent && !notAliases[t.Val] || explicit {
		if ref.Alias, _, err = p.name("an alias"); err != nil {
			return nil, err
		}
	}
	return ref, nil
}

func (p *parser) fromClause() (*fromParts, error) {
	f := &fromParts{}
	ref, err := p.sourceRef()
	if err != nil {
		return nil, err
	}
	f.sources = append(f.sources, ref)
	x := &translator{toks: p.toks}
	for p.i < p.hi {
		t := p.peek()
		kind, n, ok := p.joinStart(p.i)
		if !ok {
			if t.isKw("OUTER") {
				return nil, p.errAt(t, "write FULL OUTER JOIN, LEFT OUTER JOIN or RIGHT OUTER JOIN", "OUTER JOIN needs a join type")
			}
			if t.isOp(",") {
				return nil, p.errAt(t, "join sources with JOIN ... ON ...", "comma-separated sources are not supported")
			}
			return nil, p.errAt(t, "after FROM come JOINs, then WINDOW, WHERE, GROUP BY, PARTITION BY, HAVING, EMIT or LIMIT",
				"unexpected %s in FROM clause", t.describe())
		}
		j := &fromJoin{kind: kind, at: t.Pos}
		for k := range n {
			if k > 0 {
				j.kwText += " "
			}
			j.kwText += p.toks[p.i+k].Val
		}
		p.i += n
		ref, err := p.sourceRef()
		if err != nil {
			return nil, err
		}
		f.sources = append(f.sources, ref)
		if p.peek().isKw("WITHIN") {
			p.i++
			if j.within, err = p.within(); err != nil {
				return nil, err
			}
		}
		if !p.peek().isKw("ON") {
			return nil, p.errAt(p.peek(), "write JOIN source ON left.col = right.col", "expected ON, found %s", p.peek().describe())
		}
		p.i++
		// The condition runs to the next join or the end of the clause.
		end := p.hi
		for k := p.i; k < p.hi; k++ {
			if t := p.toks[k]; t.isOp("(") || t.isOp("[") {
				m, err := x.match(k, p.hi)
				if err != nil {
					return nil, err
				}
				k = m
				continue
			}
			if _, _, ok := p.joinStart(k); ok {
				end = k
				break
			}
		}
		if end == p.i {
			return nil, p.errAt(p.peek(), "write JOIN source ON left.col = right.col", "missing join condition")
		}
		j.on = tokRange{p.i, end}
		p.i = end
		f.joins = append(f.joins, j)
	}
	return f, nil
}

// within parses the part of a WITHIN clause after the keyword.
func (p *parser) within() (*Within, error) {
	w := &Within{}
	if p.acceptOp("(") {
		var err error
		if w.Before, err = p.duration(); err != nil {
			return nil, err
		}
		if err := p.expectOp(",", "write WITHIN (before, after)"); err != nil {
			return nil, err
		}
		if w.After, err = p.duration(); err != nil {
			return nil, err
		}
		if err := p.expectOp(")", "write WITHIN (before, after)"); err != nil {
			return nil, err
		}
	} else {
		d, err := p.duration()
		if err != nil {
			return nil, err
		}
		w.Before, w.After = d, d
	}
	if p.acceptKw("GRACE") {
		if err := p.expectKw("PERIOD", "write GRACE PERIOD n unit"); err != nil {
			return nil, err
		}
		g, err := p.duration()
		if err != nil {
			return nil, err
		}
		w.Grace = &g
	}
	return w, nil
}

// window parses the body of a WINDOW clause.
func (p *parser) window(at Pos) (*WindowSpec, error) {
	w := &WindowSpec{At: at}
	t := p.next()
	if (t.Kind == tkIdent || t.Kind == tkQIdent) && p.peek().Kind == tkIdent && !t.isKw("TUMBLING") && !t.isKw("HOPPING") && !t.isKw("SESSION") {
		// ksqlDB accepts (and ignores) a window name: WINDOW w TUMBLING (...).
		t = p.next()
	}
	switch {
	case t.isKw("TUMBLING"):
		w.Kind = WindowTumbling
	case t.isKw("HOPPING"):
		w.Kind = WindowHopping
	case t.isKw("SESSION"):
		w.Kind = WindowSession
	default:
		return nil, p.errAt(t, "write WINDOW TUMBLING (SIZE 10 SECONDS), HOPPING (SIZE ..., ADVANCE BY ...) or SESSION (gap)",
			"expected TUMBLING, HOPPING or SESSION, found %s", t.describe())
	}
	hint := map[WindowKind]string{
		WindowTumbling: "write TUMBLING (SIZE n unit [, RETENTION n unit] [, GRACE PERIOD n unit])",
		WindowHopping:  "write HOPPING (SIZE n unit, ADVANCE BY n unit [, RETENTION n unit] [, GRACE PERIOD n unit])",
		WindowSession:  "write SESSION (n unit [, RETENTION n unit] [, GRACE PERIOD n unit])",
	}[w.Kind]
	if err := p.expectOp("(", hint); err != nil {
		return nil, err
	}
	var err error
	if w.Kind == WindowSession {
		if w.Size, err = p.duration(); err != nil {
			return nil, err
		}
	} else {
		if err := p.expectKw("SIZE", hint); err != nil {
			return nil, err
		}
		if w.Size, err = p.duration(); err != nil {
			return nil, err
		}
		if w.Kind == WindowHopping {
			if err := p.expectOp(",", hint); err != nil {
				return nil, err
			}
			if err := p.expectKw("ADVANCE", hint); err != nil {
				return nil, err
			}
			if err := p.expectKw("BY", hint); err != nil {
				return nil, err
			}
			if w.Advance, err = p.duration(); err != nil {
				return nil, err
			}
		}
	}
	for p.acceptOp(",") {
		t := p.peek()
		switch {
		case t.isKw("RETENTION") && w.Retention == nil:
			p.i++
			d, err := p.duration()
			if err != nil {
				return nil, err
			}
			w.Retention = &d
		case t.isKw("GRACE") && w.Grace == nil:
			p.i++
			if err := p.expectKw("PERIOD", "write GRACE PERIOD n unit"); err != nil {
				return nil, err
			}
			d, err := p.duration()
			if err != nil {
				return nil, err
			}
			w.Grace = &d
		default:
			return nil, p.errAt(t, hint, "unexpected %s in window", t.describe())
		}
	}
	if err := p.expectOp(")", hint); err != nil {
		return nil, err
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return w, nil
}

func (p *parser) emit() (EmitMode, error) {
	t := p.next()
	var m EmitMode
	switch {
	case t.isKw("CHANGES"):
		m = EmitChanges
	case t.isKw("FINAL"):
		m = EmitFinal
	default:
		e := p.errAt(t, "write EMIT CHANGES or EMIT FINAL", "expected CHANGES or FINAL after EMIT, found %s", t.describe())
		if t.Kind == tkIdent {
			if s := closestWord(t.Val, []string{"CHANGES", "FINAL"}); s != "" {
				e.Hint = "did you mean EMIT " + s + "?"
			}
		}
		return 0, e
	}
	return m, p.expectEnd()
}

func (p *parser) limit() (int64, error) {
	t := p.next()
	if t.Kind != tkInt {
		return 0, p.errAt(t, "write LIMIT n with a whole number", "expected a row count, found %s", t.describe())
	}
	n, err := strconv.ParseInt(t.Text, 10, 64)
	if err != nil {
		return 0, p.errAt(t, "use a smaller limit", "LIMIT %s is too large", t.Text)
	}
	return n, p.expectEnd()
}
