package sql

import "strconv"

// typeNames maps the primitive type keywords to their types.
var typeNames = map[string]TypeKind{
	"BOOLEAN": TypeBoolean, "INT": TypeInt, "INTEGER": TypeInt, "BIGINT": TypeBigint,
	"DOUBLE": TypeDouble, "STRING": TypeString, "VARCHAR": TypeString, "BYTES": TypeBytes,
	"DATE": TypeDate, "TIME": TypeTime, "TIMESTAMP": TypeTimestamp,
}

// parseTypeToks parses a type starting at toks[i], not reading at or past
// hi. It returns the type and the index after it. Any name that is not a
// type keyword is a custom type: Kind TypeUnknown with Name set, for the
// planner to resolve against CREATE TYPE definitions.
func parseTypeToks(toks []token, i, hi int) (*Type, int, error) {
	at := func(k int) token {
		if k < hi {
			return toks[k]
		}
		end := toks[len(toks)-1].Pos
		if hi < len(toks) {
			end = toks[hi].Pos
		}
		return token{Kind: tkEOF, Pos: end}
	}
	t := at(i)
	if t.Kind == tkQIdent {
		return &Type{Kind: TypeUnknown, Name: t.Val}, i + 1, nil
	}
	if t.Kind != tkIdent {
		return nil, 0, Errorf(CodeSyntax, t.Pos, "expected a type, found %s", t.describe()).
			WithHint("types are BOOLEAN, INT, BIGINT, DOUBLE, DECIMAL(p, s), STRING, BYTES, DATE, TIME, TIMESTAMP, ARRAY<T>, MAP<K, V>, STRUCT<name T, ...>")
	}
	expect := func(k int, op, hint string) error {
		if !at(k).isOp(op) {
			return Errorf(CodeSyntax, at(k).Pos, "expected '%s', found %s", op, at(k).describe()).WithHint("%s", hint)
		}
		return nil
	}
	if k, ok := typeNames[t.Val]; ok {
		return &Type{Kind: k}, i + 1, nil
	}
	switch t.Val {
	case "DECIMAL":
		const hint = "write DECIMAL(precision, scale)"
		if err := expect(i+1, "(", hint); err != nil {
			return nil, 0, err
		}
		p, s := at(i+2), at(i+4)
		if p.Kind != tkInt || s.Kind != tkInt {
			bad := p
			if p.Kind == tkInt {
				bad = s
			}
			return nil, 0, Errorf(CodeSyntax, bad.Pos, "expected an integer, found %s", bad.describe()).WithHint(hint)
		}
		if err := expect(i+3, ",", hint); err != nil {
			return nil, 0, err
		}
		if err := expect(i+5, ")", hint); err != nil {
			return nil, 0, err
		}
		pv, err1 := strconv.Atoi(p.Text)
		sv, err2 := strconv.Atoi(s.Text)
		if err1 != nil || err2 != nil || pv < 1 || sv > pv || pv > 1000 {
			return nil, 0, Errorf(CodeSyntax, p.Pos, "invalid DECIMAL(%s, %s)", p.Text, s.Text).
				WithHint("precision must be at least 1 and scale between 0 and the precision")
		}
		return Decimal(pv, sv), i + 6, nil
	case "ARRAY":
		if err := expect(i+1, "<", "write ARRAY<element type>"); err != nil {
			return nil, 0, err
		}
		elem, k, err := parseTypeToks(toks, i+2, hi)
		if err != nil {
			return nil, 0, err
		}
		if err := expect(k, ">", "close the element type with '>'"); err != nil {
			return nil, 0, err
		}
		return ArrayOf(elem), k + 1, nil
	case "MAP":
		if err := expect(i+1, "<", "write MAP<key type, value type>"); err != nil {
			return nil, 0, err
		}
		key, k, err := parseTypeToks(toks, i+2, hi)
		if err != nil {
			return nil, 0, err
		}
		if err := expect(k, ",", "write MAP<key type, value type>"); err != nil {
			return nil, 0, err
		}
		val, k, err := parseTypeToks(toks, k+1, hi)
		if err != nil {
			return nil, 0, err
		}
		if err := expect(k, ">", "close the map type with '>'"); err != nil {
			return nil, 0, err
		}
		return MapOf(key, val), k + 1, nil
	case "STRUCT":
		if at(i + 1).isOp("<>") {
			return &Type{Kind: TypeStruct}, i + 2, nil
		}
		if err := expect(i+1, "<", "write STRUCT<name type, ...>"); err != nil {
			return nil, 0, err
		}
		st := &Type{Kind: TypeStruct}
		k := i + 2
		if at(k).isOp(">") {
			return st, k + 1, nil
		}
		seen := map[string]bool{}
		for {
			n := at(k)
			if n.Kind != tkIdent && n.Kind != tkQIdent {
				return nil, 0, Errorf(CodeSyntax, n.Pos, "expected a field name, found %s", n.describe()).
					WithHint("write STRUCT<name type, ...>")
			}
			if seen[n.Val] {
				return nil, 0, Errorf(CodeSyntax, n.Pos, "duplicate field %s in STRUCT", n.Val).
					WithHint("field names of a STRUCT must be unique")
			}
			seen[n.Val] = true
			ft, k2, err := parseTypeToks(toks, k+1, hi)
			if err != nil {
				return nil, 0, err
			}
			st.Fields = append(st.Fields, Field{Name: n.Val, Type: ft})
			k = k2
			if at(k).isOp(",") {
				k++
				continue
			}
			if err := expect(k, ">", "separate fields with ',' and close the struct with '>'"); err != nil {
				return nil, 0, err
			}
			return st, k + 1, nil
		}
	}
	return &Type{Kind: TypeUnknown, Name: t.Val}, i + 1, nil
}

// typeAt parses a type at toks[i] within [i, hi).
func (x *translator) typeAt(i, hi int) (*Type, int, error) {
	return parseTypeToks(x.toks, i, hi)
}

// typeExact parses a type that must fill [lo, hi) exactly. missing is
// where to point when the range is empty.
func (x *translator) typeExact(lo, hi int, missing Pos) (*Type, error) {
	if lo >= hi {
		return nil, Errorf(CodeSyntax, missing, "missing type").WithHint("write CAST(expression AS type)")
	}
	t, k, err := x.typeAt(lo, hi)
	if err != nil {
		return nil, err
	}
	if k != hi {
		return nil, Errorf(CodeSyntax, x.toks[k].Pos, "unexpected %s after the type", x.toks[k].describe())
	}
	return t, nil
}

// ParseType parses a type such as "ARRAY<STRUCT<A INT, `b` STRING>>".
func ParseType(text string) (*Type, error) {
	toks, err := lexAll(text)
	if err != nil {
		return nil, err
	}
	x := &translator{toks: toks}
	return x.typeExact(0, len(toks)-1, toks[len(toks)-1].Pos)
}

// ParseColumns parses a column list such as
// "ID BIGINT KEY, `NAME` STRING, V ARRAY<INT>", with or without the
// surrounding parentheses.
func ParseColumns(text string) ([]ColumnDef, error) {
	toks, err := lexAll(text)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, hi: len(toks) - 1}
	paren := p.peek().isOp("(")
	if paren {
		p.i++
	}
	if p.peek().Kind == tkEOF || paren && p.peek().isOp(")") {
		if paren {
			p.i++
		}
		if err := p.expectEnd(); err != nil {
			return nil, err
		}
		return nil, nil
	}
	cols, err := p.columns()
	if err != nil {
		return nil, err
	}
	if paren {
		if err := p.expectOp(")", "close the column list with ')'"); err != nil {
			return nil, err
		}
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return cols, nil
}
