package qtt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/sql"
)

// schemaColumn is a column of a schema string such as
// "`K` STRING KEY, `C1` BIGINT" (post conditions, REST response headers).
type schemaColumn struct {
	Name      string
	Type      *sql.Type
	Role      sql.ColumnConstraint // ColKey for KEY and PRIMARY KEY alike
	HeaderKey string
}

func (c schemaColumn) String() string {
	s := "`" + c.Name + "` " + c.Type.String()
	switch c.Role {
	case sql.ColKey, sql.ColPrimaryKey:
		s += " KEY"
	case sql.ColHeaders:
		s += " HEADERS"
	case sql.ColHeader:
		s += " HEADER('" + c.HeaderKey + "')"
	}
	return s
}

// parseSchema parses a column list. It is the runner's own parser (kept
// independent of the engine's, like the test serde), covering ksqlDB's
// rendering of logical schemas: quoted or unquoted names (unquoted ones fold
// to upper case), every SQL type, and KEY, PRIMARY KEY, HEADERS and
// HEADER('k') constraints.
func parseSchema(text string) ([]schemaColumn, error) {
	p := &schemaParser{s: text}
	var cols []schemaColumn
	p.skipSpace()
	if p.eof() {
		return nil, nil
	}
	for {
		col, err := p.column()
		if err != nil {
			return nil, fmt.Errorf("schema %q: %w", text, err)
		}
		cols = append(cols, col)
		p.skipSpace()
		if p.eof() {
			return cols, nil
		}
		if !p.accept(",") {
			return nil, fmt.Errorf("schema %q: expected ',' at offset %d", text, p.i)
		}
	}
}

type schemaParser struct {
	s string
	i int
}

func (p *schemaParser) eof() bool { return p.i >= len(p.s) }

func (p *schemaParser) skipSpace() {
	for p.i < len(p.s) && strings.ContainsRune(" \t\r\n", rune(p.s[p.i])) {
		p.i++
	}
}

func (p *schemaParser) accept(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

// word reads an unquoted word (letters, digits, underscore).
func (p *schemaParser) word() string {
	p.skipSpace()
	j := p.i
	for j < len(p.s) {
		c := p.s[j]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			j++
			continue
		}
		break
	}
	w := p.s[p.i:j]
	p.i = j
	return w
}

// peekWord returns the next word upper-cased without consuming it.
func (p *schemaParser) peekWord() string {
	save := p.i
	w := p.word()
	p.i = save
	return strings.ToUpper(w)
}

func (p *schemaParser) name() (string, error) {
	p.skipSpace()
	if p.eof() {
		return "", fmt.Errorf("expected a name at offset %d", p.i)
	}
	if q := p.s[p.i]; q == '`' || q == '"' {
		end := strings.IndexByte(p.s[p.i+1:], q)
		if end < 0 {
			return "", fmt.Errorf("unterminated quoted name at offset %d", p.i)
		}
		n := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return n, nil
	}
	w := p.word()
	if w == "" {
		return "", fmt.Errorf("expected a name at offset %d", p.i)
	}
	return strings.ToUpper(w), nil
}

func (p *schemaParser) column() (schemaColumn, error) {
	name, err := p.name()
	if err != nil {
		return schemaColumn{}, err
	}
	t, err := p.typ()
	if err != nil {
		return schemaColumn{}, err
	}
	col := schemaColumn{Name: name, Type: t, Role: sql.ColValue}
	switch p.peekWord() {
	case "KEY":
		p.word()
		col.Role = sql.ColKey
	case "PRIMARY":
		p.word()
		if strings.ToUpper(p.word()) != "KEY" {
			return col, fmt.Errorf("expected KEY after PRIMARY at offset %d", p.i)
		}
		col.Role = sql.ColKey
	case "HEADERS":
		p.word()
		col.Role = sql.ColHeaders
	case "HEADER":
		p.word()
		if !p.accept("(") || !p.accept("'") {
			return col, fmt.Errorf("expected ('key') after HEADER at offset %d", p.i)
		}
		end := strings.IndexByte(p.s[p.i:], '\'')
		if end < 0 {
			return col, fmt.Errorf("unterminated header key at offset %d", p.i)
		}
		col.HeaderKey = p.s[p.i : p.i+end]
		p.i += end + 1
		if !p.accept(")") {
			return col, fmt.Errorf("expected ) at offset %d", p.i)
		}
		col.Role = sql.ColHeader
	}
	return col, nil
}

func (p *schemaParser) typ() (*sql.Type, error) {
	w := strings.ToUpper(p.word())
	switch w {
	case "BOOLEAN":
		return sql.Boolean, nil
	case "INT", "INTEGER":
		return sql.Int, nil
	case "BIGINT":
		return sql.Bigint, nil
	case "DOUBLE":
		return sql.Double, nil
	case "STRING", "VARCHAR":
		return sql.String, nil
	case "BYTES":
		return sql.Bytes, nil
	case "DATE":
		return sql.Date, nil
	case "TIME":
		return sql.Time, nil
	case "TIMESTAMP":
		return sql.Timestamp, nil
	case "DECIMAL":
		if !p.accept("(") {
			return nil, fmt.Errorf("expected ( after DECIMAL at offset %d", p.i)
		}
		prec, err := strconv.Atoi(p.word())
		if err != nil || !p.accept(",") {
			return nil, fmt.Errorf("bad DECIMAL precision at offset %d", p.i)
		}
		scale, err := strconv.Atoi(p.word())
		if err != nil || !p.accept(")") {
			return nil, fmt.Errorf("bad DECIMAL scale at offset %d", p.i)
		}
		return sql.Decimal(prec, scale), nil
	case "ARRAY":
		if !p.accept("<") {
			return nil, fmt.Errorf("expected < after ARRAY at offset %d", p.i)
		}
		e, err := p.typ()
		if err != nil {
			return nil, err
		}
		if !p.accept(">") {
			return nil, fmt.Errorf("expected > at offset %d", p.i)
		}
		return sql.ArrayOf(e), nil
	case "MAP":
		if !p.accept("<") {
			return nil, fmt.Errorf("expected < after MAP at offset %d", p.i)
		}
		k, err := p.typ()
		if err != nil {
			return nil, err
		}
		if !p.accept(",") {
			return nil, fmt.Errorf("expected , in MAP at offset %d", p.i)
		}
		v, err := p.typ()
		if err != nil {
			return nil, err
		}
		if !p.accept(">") {
			return nil, fmt.Errorf("expected > at offset %d", p.i)
		}
		return sql.MapOf(k, v), nil
	case "STRUCT":
		if !p.accept("<") {
			return nil, fmt.Errorf("expected < after STRUCT at offset %d", p.i)
		}
		t := &sql.Type{Kind: sql.TypeStruct}
		if p.accept(">") {
			return t, nil
		}
		for {
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			ft, err := p.typ()
			if err != nil {
				return nil, err
			}
			t.Fields = append(t.Fields, sql.Field{Name: n, Type: ft})
			if p.accept(">") {
				return t, nil
			}
			if !p.accept(",") {
				return nil, fmt.Errorf("expected , or > in STRUCT at offset %d", p.i)
			}
		}
	case "":
		return nil, fmt.Errorf("expected a type at offset %d", p.i)
	}
	return nil, fmt.Errorf("unknown type %s", w)
}

// compareSchemas compares an expected column list with actual columns:
// order, names, types and namespaces (KEY and PRIMARY KEY are one
// namespace). It returns "" on a match.
func compareSchemas(expected, actual []schemaColumn) string {
	render := func(cs []schemaColumn) string {
		parts := make([]string, len(cs))
		for i, c := range cs {
			parts[i] = c.String()
		}
		return strings.Join(parts, ", ")
	}
	same := len(expected) == len(actual)
	for i := 0; same && i < len(expected); i++ {
		e, a := expected[i], actual[i]
		same = e.Name == a.Name && e.Type.Equal(a.Type) && keyish(e.Role) == keyish(a.Role) &&
			(keyish(e.Role) || e.Role == a.Role) && e.HeaderKey == a.HeaderKey
	}
	if same {
		return ""
	}
	return fmt.Sprintf("schema: expected %s, got %s", render(expected), render(actual))
}

func keyish(r sql.ColumnConstraint) bool { return r == sql.ColKey || r == sql.ColPrimaryKey }
