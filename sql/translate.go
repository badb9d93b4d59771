package sql

import (
	"sort"
	"strconv"
	"strings"
)

// This file is the token-aware bridge to TiDB's parser. ksqlDB expressions
// are translated token by token into text that the MySQL grammar accepts;
// every emitted segment remembers the original token it stands for, so that
// positions reported by TiDB (byte offsets in the translated text) map back
// to the user's text.
//
// Translation rules:
//   - identifiers are emitted back-quoted and already folded, so TiDB never
//     sees a user word as a keyword and never changes its case;
//   - function names are emitted back-quoted and upper-cased, so every call
//     is a generic call (no MySQL special forms such as TRIM or
//     TIMESTAMPADD) and can never collide with the lower-case placeholder
//     functions below;
//   - constructs MySQL lacks become calls to placeholder functions named
//     `__sluice_*` whose arguments are the translated operands; anything the
//     placeholder needs that is not an expression (a type, a field name,
//     lambda parameters) is kept in a side table and passed by index;
//   - `||` becomes `|`: bitwise OR sits between +,- and the comparisons in
//     MySQL, which is exactly where ksqlDB puts concatenation;
//   - IS NOT DISTINCT FROM becomes <=> and IS DISTINCT FROM becomes REGEXP,
//     the only comparison-precedence operators ksqlDB does not have.

// Placeholder function names. Lower case: user function names are always
// upper-cased, so a user cannot call these.
const (
	phDeref     = "__sluice_deref"     // (x, field#)
	phDerefStar = "__sluice_derefstar" // (x): x->* in a select list
	phSubscript = "__sluice_subscript" // (x, index)
	phCast      = "__sluice_cast"      // (x, type#)
	phArray     = "__sluice_array"     // (e, ...)
	phMap       = "__sluice_map"       // (k, v, k, v, ...)
	phStruct    = "__sluice_struct"    // (names#, v, ...)
	phLambda    = "__sluice_lambda"    // (params#, body)
	phUnit      = "__sluice_unit"      // (unit#)
	phParam     = "__sluice_param"     // (n)
	phDecimal   = "__sluice_decimal"   // (text#): DECIMAL '1.23'
	phStar      = "__sluice_star"      // column: the * of COUNT(*)
)

// seg is one piece of translated text. at is the original position it
// stands for; tok is set when the segment is the translation of exactly one
// original token (identifiers and literals).
type seg struct {
	text string
	at   Pos
	tok  *token
}

// exprKeywords are the words passed to TiDB as keywords inside expressions.
var exprKeywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "IS": true, "NULL": true, "TRUE": true,
	"FALSE": true, "CASE": true, "WHEN": true, "THEN": true, "ELSE": true,
	"END": true, "IN": true, "BETWEEN": true, "LIKE": true, "ESCAPE": true, "AS": true,
}

// argUnits are the time units accepted as a whole function argument. Only
// ksqlDB's reserved unit words qualify: the singular DAY, HOUR, MINUTE and
// SECOND are non-reserved there and parse as column names.
var argUnits = map[string]bool{
	"MILLISECOND": true, "MILLISECONDS": true, "SECONDS": true, "MINUTES": true,
	"HOURS": true, "DAYS": true,
}

// translator translates token ranges of one statement.
type translator struct {
	toks []token
	aux  []any // side table for placeholders
	// args holds the start index of every function argument list, where
	// (and only where) a lambda may begin.
	args map[int]bool
}

func (x *translator) addAux(v any) string {
	x.aux = append(x.aux, v)
	return strconv.Itoa(len(x.aux) - 1)
}

func quoteBacktick(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// match returns the index of the bracket closing the one at i, searching
// before hi.
func (x *translator) match(i, hi int) (int, error) {
	open := x.toks[i].Val
	close := map[string]string{"(": ")", "[": "]"}[open]
	var stack []string
	for j := i; j < hi; j++ {
		t := x.toks[j]
		if t.Kind != tkOp {
			continue
		}
		switch t.Val {
		case "(", "[":
			stack = append(stack, t.Val)
		case ")", "]":
			want := map[string]string{")": "(", "]": "["}[t.Val]
			if len(stack) == 0 || stack[len(stack)-1] != want {
				return 0, Errorf(CodeSyntax, t.Pos, "unexpected %s", t.describe()).
					WithHint("check that brackets are balanced")
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return j, nil
			}
		}
	}
	return 0, Errorf(CodeSyntax, x.toks[i].Pos, "unclosed %s", x.toks[i].describe()).
		WithHint("add the missing %s", close)
}

// splitTop splits [lo, hi) at depth-0 tokens for which sep is true. It
// returns the ranges between separators (one range when none is found).
func (x *translator) splitTop(lo, hi int, sep func(token) bool) ([]tokRange, error) {
	var out []tokRange
	start := lo
	for j := lo; j < hi; j++ {
		t := x.toks[j]
		if t.isOp("(") || t.isOp("[") {
			k, err := x.match(j, hi)
			if err != nil {
				return nil, err
			}
			j = k
			continue
		}
		if sep(t) {
			out = append(out, tokRange{start, j})
			start = j + 1
		}
	}
	return append(out, tokRange{start, hi}), nil
}

func isComma(t token) bool { return t.isOp(",") }

// endPos is the position just after the range [lo, hi): where an error
// about a missing continuation points.
func (x *translator) endPos(hi int) Pos {
	if hi < len(x.toks) {
		return x.toks[hi].Pos
	}
	return x.toks[len(x.toks)-1].Pos
}

// seq translates the expression tokens [lo, hi).
func (x *translator) seq(lo, hi int) ([]seg, error) {
	var out []seg
	prim := -1 // index in out where the last complete primary begins
	var caseStarts []int
	emit := func(text string, t token, one bool) {
		s := seg{text: text, at: t.Pos}
		if one {
			tt := t
			s.tok = &tt
		}
		out = append(out, s)
	}
	// wrap rewrites out[prim:] as name(out[prim:], extra...).
	wrap := func(name string, tail []seg) {
		inner := append([]seg(nil), out[prim:]...)
		at := out[prim].at
		out = append(out[:prim], seg{text: quoteBacktick(name) + "(", at: at})
		out = append(out, inner...)
		out = append(out, tail...)
	}
	for i := lo; i < hi; {
		t := x.toks[i]
		next := func(k int) token {
			if i+k < hi {
				return x.toks[i+k]
			}
			return token{Kind: tkEOF, Pos: x.endPos(hi)}
		}
		switch t.Kind {
		case tkVar:
			return nil, Errorf(CodeSyntax, t.Pos, "variable ${%s} is not defined", t.Val).
				WithHint("DEFINE %s = '...' before using it", t.Val)
		case tkParam:
			n, err := strconv.Atoi(t.Val)
			if err != nil || n < 1 {
				return nil, Errorf(CodeSyntax, t.Pos, "invalid parameter %s", t.Text).
					WithHint("parameters are numbered from $1")
			}
			prim = len(out)
			emit(quoteBacktick(phParam)+"("+strconv.Itoa(n)+")", t, false)
			i++
		case tkString, tkInt, tkDecimal, tkDouble:
			if t.Kind == tkString && prim >= 0 {
				// MySQL would read `expr 'text'` as an alias; ksqlDB has no
				// string aliases.
				return nil, Errorf(CodeSyntax, t.Pos, "unexpected string %s", t.describe()).
					WithHint("quote aliases with backticks: AS `name`")
			}
			prim = len(out)
			switch {
			case t.Kind == tkString:
				emit(quoteString(t.Val), t, true)
			case t.Kind == tkDecimal:
				// TiDB misreads "12. AS x"; give it "12.0". The literal's
				// text is taken from the original token, not from here.
				text := t.Text
				if strings.HasPrefix(text, ".") {
					text = "0" + text
				}
				if strings.HasSuffix(text, ".") {
					text += "0"
				}
				emit(text, t, true)
			default:
				emit(t.Text, t, true)
			}
			i++
		case tkQIdent, tkIdent:
			name := t.Val
			if next(1).isOp("=>") {
				if !x.argStart(i, lo) {
					return nil, Errorf(CodeSyntax, next(1).Pos, "unexpected =>").WithHint("%s", opHint("=>"))
				}
				end, err := x.lambda(i, hi, []string{name}, i+2, &out)
				if err != nil {
					return nil, err
				}
				prim = -1
				i = end
				continue
			}
			if t.Kind == tkIdent {
				n1 := next(1)
				switch {
				case name == "IS" && n1.isKw("DISTINCT") || name == "IS" && n1.isKw("NOT") && next(2).isKw("DISTINCT"):
					not := n1.isKw("NOT")
					k := 2
					if not {
						k = 3
					}
					if !next(k).isKw("FROM") {
						return nil, Errorf(CodeSyntax, next(k).Pos, "expected FROM after IS DISTINCT").
							WithHint("write IS [NOT] DISTINCT FROM expr")
					}
					if not {
						emit("<=>", t, false)
					} else {
						emit("REGEXP", t, false)
					}
					prim = -1
					i += k + 1
					continue
				case exprKeywords[name]:
					switch name {
					case "TRUE", "FALSE", "NULL":
						prim = len(out)
						emit(name, t, true)
					case "CASE":
						caseStarts = append(caseStarts, len(out))
						emit(name, t, false)
						prim = -1
					case "END":
						emit(name, t, false)
						prim = -1
						if n := len(caseStarts); n > 0 {
							prim = caseStarts[n-1]
							caseStarts = caseStarts[:n-1]
						}
					default:
						emit(name, t, false)
						prim = -1
					}
					i++
					continue
				case name == "CAST" && n1.isOp("("):
					j, err := x.match(i+1, hi)
					if err != nil {
						return nil, err
					}
					parts, err := x.splitTop(i+2, j, func(t token) bool { return t.isKw("AS") })
					if err != nil {
						return nil, err
					}
					if len(parts) != 2 || parts[0].lo == parts[0].hi {
						return nil, Errorf(CodeSyntax, t.Pos, "malformed CAST").
							WithHint("write CAST(expression AS type)")
					}
					inner, err := x.seq(parts[0].lo, parts[0].hi)
					if err != nil {
						return nil, err
					}
					typ, err := x.typeExact(parts[1].lo, parts[1].hi, x.toks[parts[0].hi].Pos)
					if err != nil {
						return nil, err
					}
					prim = len(out)
					emit(quoteBacktick(phCast)+"(", t, false)
					out = append(out, inner...)
					out = append(out, seg{text: ", " + x.addAux(typ) + ")", at: x.toks[j].Pos})
					i = j + 1
					continue
				case name == "ARRAY" && n1.isOp("["):
					j, err := x.match(i+1, hi)
					if err != nil {
						return nil, err
					}
					inner, err := x.seq(i+2, j)
					if err != nil {
						return nil, err
					}
					prim = len(out)
					emit(quoteBacktick(phArray)+"(", t, false)
					out = append(out, inner...)
					out = append(out, seg{text: ")", at: x.toks[j].Pos})
					i = j + 1
					continue
				case (name == "MAP" || name == "STRUCT") && n1.isOp("("):
					start := len(out)
					j, err := x.ctor(t, i+1, hi, &out)
					if err != nil {
						return nil, err
					}
					prim = start
					i = j + 1
					continue
				case name == "DECIMAL" && n1.Kind == tkString:
					prim = len(out)
					emit(quoteBacktick(phDecimal)+"("+x.addAux(n1.Val)+")", t, false)
					i += 2
					continue
				case argUnits[name] && (i == lo || x.toks[i-1].isOp("(") || x.toks[i-1].isOp(",")) &&
					(i+1 == hi || n1.isOp(",") || n1.isOp(")")):
					prim = len(out)
					emit(quoteBacktick(phUnit)+"("+x.addAux(name)+")", t, false)
					i++
					continue
				}
			}
			if next(1).isOp("(") {
				j, err := x.match(i+1, hi)
				if err != nil {
					return nil, err
				}
				prim = len(out)
				emit(quoteBacktick(strings.ToUpper(name))+"(", t, false)
				if j == i+3 && x.toks[i+2].isOp("*") {
					out = append(out, seg{text: quoteBacktick(phStar), at: x.toks[i+2].Pos})
				} else {
					if x.args == nil {
						x.args = map[int]bool{}
					}
					x.args[i+2] = true
					inner, err := x.seq(i+2, j)
					if err != nil {
						return nil, err
					}
					out = append(out, inner...)
				}
				out = append(out, seg{text: ")", at: x.toks[j].Pos})
				i = j + 1
				continue
			}
			if i > lo && x.toks[i-1].isOp(".") && prim >= 0 {
				// second part of a qualified name: the primary began at the qualifier.
				emit(quoteBacktick(name), t, true)
			} else {
				prim = len(out)
				emit(quoteBacktick(name), t, true)
			}
			i++
		case tkOp:
			switch t.Val {
			case "(":
				j, err := x.match(i, hi)
				if err != nil {
					return nil, err
				}
				if j+1 < hi && x.toks[j+1].isOp("=>") {
					if !x.argStart(i, lo) {
						return nil, Errorf(CodeSyntax, x.toks[j+1].Pos, "unexpected =>").WithHint("%s", opHint("=>"))
					}
					params, err := x.lambdaParams(i+1, j)
					if err != nil {
						return nil, err
					}
					end, err := x.lambda(i, hi, params, j+2, &out)
					if err != nil {
						return nil, err
					}
					prim = -1
					i = end
					continue
				}
				inner, err := x.seq(i+1, j)
				if err != nil {
					return nil, err
				}
				prim = len(out)
				emit("(", t, false)
				out = append(out, inner...)
				out = append(out, seg{text: ")", at: x.toks[j].Pos})
				i = j + 1
			case "->":
				if prim < 0 {
					return nil, Errorf(CodeSyntax, t.Pos, "unexpected ->").
						WithHint("-> accesses a field of a struct: write struct_column->FIELD")
				}
				f := next(1)
				switch {
				case f.isOp("*"):
					wrap(phDerefStar, []seg{{text: ")", at: f.Pos}})
				case f.Kind == tkIdent || f.Kind == tkQIdent:
					tf := f
					wrap(phDeref, []seg{{text: ", " + x.addAux(f.Val) + ")", at: f.Pos, tok: &tf}})
				default:
					return nil, Errorf(CodeSyntax, f.Pos, "expected a field name after ->, found %s", f.describe()).
						WithHint("write struct_column->FIELD")
				}
				i += 2
			case "[":
				if prim < 0 {
					return nil, Errorf(CodeSyntax, t.Pos, "unexpected [").
						WithHint("[ ] indexes an array or map: write col[1] or col['key']; build an array with ARRAY[...]")
				}
				j, err := x.match(i, hi)
				if err != nil {
					return nil, err
				}
				if j == i+1 {
					return nil, Errorf(CodeSyntax, x.toks[j].Pos, "missing index").
						WithHint("write col[1] or col['key']")
				}
				idx, err := x.seq(i+1, j)
				if err != nil {
					return nil, err
				}
				tail := append([]seg{{text: ",", at: t.Pos}}, idx...)
				wrap(phSubscript, append(tail, seg{text: ")", at: x.toks[j].Pos}))
				i = j + 1
			case "::":
				if prim < 0 {
					return nil, Errorf(CodeSyntax, t.Pos, "unexpected ::").WithHint("write expression::TYPE")
				}
				typ, end, err := x.typeAt(i+1, hi)
				if err != nil {
					return nil, err
				}
				wrap(phCast, []seg{{text: ", " + x.addAux(typ) + ")", at: t.Pos}})
				i = end
			case ".":
				if prim < 0 || i+1 >= hi || !(x.toks[i+1].Kind == tkIdent || x.toks[i+1].Kind == tkQIdent || x.toks[i+1].isOp("*")) {
					return nil, Errorf(CodeSyntax, t.Pos, "unexpected '.'").
						WithHint("qualify a column as source.column; use -> for struct fields")
				}
				emit(".", t, false)
				if x.toks[i+1].isOp("*") {
					emit("*", x.toks[i+1], false)
					i++
				}
				i++
			case "||":
				emit("|", t, false)
				prim = -1
				i++
			case "+", "-", "*", "/", "%", "=", "<>", "!=", "<", "<=", ">", ">=", ",":
				emit(t.Val, t, false)
				prim = -1
				i++
			default:
				return nil, Errorf(CodeSyntax, t.Pos, "unexpected %s", t.describe()).WithHint("%s", opHint(t.Val))
			}
		default:
			return nil, Errorf(CodeSyntax, t.Pos, "unexpected %s", t.describe())
		}
	}
	return out, nil
}

func opHint(op string) string {
	switch op {
	case "=>":
		return "a lambda is written x => expression or (x, y) => expression"
	case ":=":
		return ":= only appears in MAP(k := v) and STRUCT(name := v)"
	case ";":
		return "end the statement before the ';'"
	}
	return "check the expression syntax"
}

// argStart reports whether toks[i] begins a function argument: a lambda
// is only valid as a whole argument.
func (x *translator) argStart(i, lo int) bool {
	return x.args[lo] && (i == lo || x.toks[i-1].isOp(","))
}

// lambdaParams reads the identifiers of a (x, y) => parameter list.
func (x *translator) lambdaParams(lo, hi int) ([]string, error) {
	var ps []string
	for k := lo; k < hi; k++ {
		t := x.toks[k]
		if (k-lo)%2 == 1 {
			if !t.isOp(",") {
				return nil, Errorf(CodeSyntax, t.Pos, "expected ',' between lambda parameters")
			}
			continue
		}
		if t.Kind != tkIdent && t.Kind != tkQIdent {
			return nil, Errorf(CodeSyntax, t.Pos, "expected a lambda parameter name, found %s", t.describe())
		}
		ps = append(ps, t.Val)
	}
	if len(ps) == 0 || (hi-lo)%2 == 0 {
		return nil, Errorf(CodeSyntax, x.toks[lo-1].Pos, "malformed lambda parameter list").
			WithHint("write (x, y) => expression")
	}
	return ps, nil
}

// lambda translates a lambda whose body starts at body and runs to the next
// depth-0 comma. It returns the index after the body.
func (x *translator) lambda(start, hi int, params []string, body int, out *[]seg) (int, error) {
	rs, err := x.splitTop(body, hi, isComma)
	if err != nil {
		return 0, err
	}
	end := rs[0].hi
	if end == body {
		return 0, Errorf(CodeSyntax, x.endPos(body), "missing lambda body").WithHint("write x => expression")
	}
	inner, err := x.seq(body, end)
	if err != nil {
		return 0, err
	}
	*out = append(*out, seg{text: quoteBacktick(phLambda) + "(" + x.addAux(params) + ",", at: x.toks[start].Pos})
	*out = append(*out, inner...)
	*out = append(*out, seg{text: ")", at: x.endPos(end)})
	return end, nil
}

// ctor translates MAP(k := v, ...) or STRUCT(name := v, ...) whose '(' is at
// open. It returns the index of the closing ')'.
func (x *translator) ctor(kw token, open, hi int, out *[]seg) (int, error) {
	j, err := x.match(open, hi)
	if err != nil {
		return 0, err
	}
	isMap := kw.Val == "MAP"
	var args []seg
	var names []string
	if j > open+1 {
		elems, err := x.splitTop(open+1, j, isComma)
		if err != nil {
			return 0, err
		}
		for _, e := range elems {
			kv, err := x.splitTop(e.lo, e.hi, func(t token) bool { return t.isOp(":=") })
			if err != nil {
				return 0, err
			}
			if len(kv) != 2 || kv[0].lo == kv[0].hi || kv[1].lo == kv[1].hi {
				return 0, Errorf(CodeSyntax, x.endPos(e.lo), "malformed %s entry", kw.Val).
					WithHint("write %s(name := value, ...)", kw.Val)
			}
			if isMap {
				k, err := x.seq(kv[0].lo, kv[0].hi)
				if err != nil {
					return 0, err
				}
				if len(args) > 0 {
					args = append(args, seg{text: ",", at: x.toks[e.lo].Pos})
				}
				args = append(args, k...)
			} else {
				nt := x.toks[kv[0].lo]
				if kv[0].hi != kv[0].lo+1 || (nt.Kind != tkIdent && nt.Kind != tkQIdent) {
					return 0, Errorf(CodeSyntax, nt.Pos, "expected a field name, found %s", nt.describe()).
						WithHint("write STRUCT(name := value, ...)")
				}
				names = append(names, nt.Val)
			}
			v, err := x.seq(kv[1].lo, kv[1].hi)
			if err != nil {
				return 0, err
			}
			if len(args) > 0 || !isMap {
				args = append(args, seg{text: ",", at: x.toks[kv[1].lo].Pos})
			}
			args = append(args, v...)
		}
	}
	if isMap {
		*out = append(*out, seg{text: quoteBacktick(phMap) + "(", at: kw.Pos})
	} else {
		*out = append(*out, seg{text: quoteBacktick(phStruct) + "(" + x.addAux(names), at: kw.Pos})
	}
	*out = append(*out, args...)
	*out = append(*out, seg{text: ")", at: x.toks[j].Pos})
	return j, nil
}

// assembled is translated text with a map back to original positions.
type assembled struct {
	text   string
	starts []int // byte offset of each segment in text
	segs   []seg
	end    Pos // position reported for errors at the end of the text
}

func assemble(segs []seg, end Pos) *assembled {
	a := &assembled{segs: segs, end: end}
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte(' ')
		}
		a.starts = append(a.starts, b.Len())
		b.WriteString(s.text)
	}
	a.text = b.String()
	return a
}

// segAt returns the index of the segment containing offset off, or -1 when
// off is past the end of the text.
func (a *assembled) segAt(off int) int {
	if off >= len(a.text) || len(a.segs) == 0 {
		return -1
	}
	i := sort.Search(len(a.starts), func(i int) bool { return a.starts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i
}

// posAt maps an offset in the translated text to an original position.
func (a *assembled) posAt(off int) Pos {
	i := a.segAt(off)
	if i < 0 {
		return a.end
	}
	return a.segs[i].at
}

// tokAt returns the original token of the segment starting exactly at off.
func (a *assembled) tokAt(off int) *token {
	i := a.segAt(off)
	if i < 0 || a.starts[i] != off {
		return nil
	}
	return a.segs[i].tok
}
