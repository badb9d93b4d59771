package server

import (
	"strconv"
	"strings"

	"github.com/jackc/pgproto3/v2"
	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/sql"
)

// portal is a statement ready to run: an extended-protocol portal (Bind),
// a cursor (DECLARE), or the unnamed portal a simple query runs in.
type portal struct {
	st      *stmtInfo
	formats []int16 // result formats from Bind
	stream  *stream // started rows; nil until Describe or Execute
	cursor  bool    // declared by DECLARE: FETCH may read it
}

func (p *portal) close() {
	if p.stream != nil {
		p.stream.close()
		p.stream = nil
	}
}

// replacePortal installs p under name, closing what was there.
func (c *conn) replacePortal(name string, p *portal) {
	if old := c.portals[name]; old != nil {
		old.close()
	}
	c.portals[name] = p
}

// endImplicitTx ends the implicit transaction of a simple query or an
// extended-protocol batch outside a transaction block: like Postgres, its
// portals go away with it.
func (c *conn) endImplicitTx() {
	for name, p := range c.portals {
		p.close()
		delete(c.portals, name)
	}
}

// closeAll releases everything the session holds, when it ends.
func (c *conn) closeAll() {
	c.endImplicitTx()
	if c.desc != nil {
		c.desc.stream.close()
		c.desc = nil
	}
}

// utility runs the statements the server answers itself and returns the
// command tag.
func (c *conn) utility(st *stmtInfo) (string, error) {
	switch st.kind {
	case kindBegin:
		if c.tx != 'I' {
			c.notice("WARNING", codeActiveTx, "there is already a transaction in progress")
		} else {
			c.tx = 'T'
		}
		return "BEGIN", nil
	case kindCommit, kindRollback:
		tag := "COMMIT"
		if st.kind == kindRollback || c.tx == 'E' {
			tag = "ROLLBACK"
		}
		if c.tx == 'I' {
			c.notice("WARNING", codeNoActiveTx, "there is no transaction in progress")
		}
		c.tx = 'I'
		c.endImplicitTx()
		return tag, nil
	case kindSet:
		if st.name == "" {
			return "SET", nil
		}
		v, report, err := c.settings.set(st.name, st.value)
		if err != nil {
			return "", err
		}
		if report {
			c.send(&pgproto3.ParameterStatus{Name: settingByName[strings.ToLower(st.name)].name, Value: v})
		}
		return "SET", nil
	case kindReset:
		if st.name == "all" {
			for _, kv := range c.settings.reset() {
				c.send(&pgproto3.ParameterStatus{Name: kv[0], Value: kv[1]})
			}
			return "RESET", nil
		}
		v, report, err := c.settings.set(st.name, "")
		if err != nil {
			return "", err
		}
		if report {
			c.send(&pgproto3.ParameterStatus{Name: settingByName[strings.ToLower(st.name)].name, Value: v})
		}
		return "RESET", nil
	case kindDiscard:
		if c.tx != 'I' {
			return "", sql.Errorf(codeActiveTx, sql.Pos{}, "DISCARD ALL cannot run inside a transaction block")
		}
		for _, kv := range c.settings.reset() {
			c.send(&pgproto3.ParameterStatus{Name: kv[0], Value: kv[1]})
		}
		c.endImplicitTx()
		c.stmts = map[string]*prepared{}
		if c.desc != nil {
			c.desc.stream.close()
			c.desc = nil
		}
		// A fresh engine session forgets SET properties and DEFINEd
		// variables, as DISCARD ALL forgets session state in Postgres.
		c.sess = c.srv.eng.NewSession()
		return "DISCARD ALL", nil
	case kindDeclare:
		if c.tx == 'I' {
			return "", sql.Errorf(codeNoActiveTx, sql.Pos{}, "DECLARE CURSOR can only be used in transaction blocks").
				WithHint("send BEGIN first (psql does so itself with \\set FETCH_COUNT)")
		}
		if _, dup := c.portals[st.name]; dup {
			return "", sql.Errorf(codeDuplicateCursor, sql.Pos{}, "cursor %q already exists", st.name)
		}
		s, err := c.open(st.query)
		if err != nil {
			return "", err
		}
		c.portals[st.name] = &portal{st: st.query, stream: s, cursor: true}
		return "DECLARE CURSOR", nil
	case kindClose:
		if st.name == "" {
			for name, p := range c.portals {
				if p.cursor {
					p.close()
					delete(c.portals, name)
				}
			}
			return "CLOSE CURSOR ALL", nil
		}
		p := c.portals[st.name]
		if p == nil || !p.cursor {
			return "", sql.Errorf(codeUndefinedCursor, sql.Pos{}, "cursor %q does not exist", st.name)
		}
		p.close()
		delete(c.portals, st.name)
		return "CLOSE CURSOR", nil
	}
	return "", sql.Errorf(codeFeatureNotSupport, sql.Pos{}, "unsupported statement")
}

// showRows answers SHOW name and SHOW ALL.
func (c *conn) showRows(name string) (Rows, []pgType, error) {
	text := pgTypeByOID(oidText)
	if name == "all" {
		var rows []sluice.Row
		for _, kv := range c.settings.all() {
			rows = append(rows, sluice.Row{Values: []any{kv[0], kv[1], ""}})
		}
		cols := []sluice.Column{{Name: "name"}, {Name: "setting"}, {Name: "description"}}
		return newTableRows(cols, rows), []pgType{text, text, text}, nil
	}
	v, ok := c.settings.get(name)
	if !ok {
		return nil, nil, sql.Errorf(codeUndefinedObject, sql.Pos{}, "unrecognized configuration parameter %q", name)
	}
	col := name
	if k := settingByName[name]; k != nil {
		col = strings.ToLower(k.name)
	}
	return newTableRows([]sluice.Column{{Name: col}}, []sluice.Row{{Values: []any{v}}}), []pgType{text}, nil
}

// copyOut runs COPY (query) TO STDOUT: the rows go out as CopyData in text
// or CSV format, one message per row, flushed whenever no further row is
// ready, so psql prints a push query's rows as they arrive.
func (c *conn) copyOut(p *portal) (stmtOutcome, error) {
	st := p.st
	if p.stream == nil {
		s, err := c.open(st.query)
		if err != nil {
			return stmtFailed, err
		}
		p.stream = s
	}
	s := p.stream
	formats := make([]uint16, len(s.cols))
	c.send(&pgproto3.CopyOutResponse{OverallFormat: 0, ColumnFormatCodes: formats})
	var line []byte
	if st.hdr && st.csv {
		for i, col := range s.cols {
			if i > 0 {
				line = append(line, ',')
			}
			line = appendCSV(line, col.Name)
		}
		line = append(line, '\n')
		c.send(&pgproto3.CopyData{Data: line})
	}
	var field []byte
	_, _, out, err := c.pumpWith(s, 0, func(row sluice.Row) error {
		line = line[:0]
		for i, v := range row.Values {
			if i > 0 {
				if st.csv {
					line = append(line, ',')
				} else {
					line = append(line, '\t')
				}
			}
			if v == nil {
				if !st.csv {
					line = append(line, '\\', 'N')
				}
				continue
			}
			var err error
			if field, err = appendText(field[:0], v); err != nil {
				return err
			}
			if st.csv {
				line = appendCSV(line, string(field))
			} else {
				line = appendCopyText(line, field)
			}
		}
		line = append(line, '\n')
		return c.be.Send(&pgproto3.CopyData{Data: line})
	})
	if out != stmtDone {
		return out, nil
	}
	if err != nil {
		// The client is in copy mode: an ErrorResponse ends it.
		return stmtFailed, err
	}
	c.send(&pgproto3.CopyDone{})
	c.complete("COPY " + strconv.FormatInt(s.sent, 10))
	return stmtDone, nil
}

// appendCopyText escapes a value for COPY's text format.
func appendCopyText(dst, v []byte) []byte {
	for _, b := range v {
		switch b {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// appendCSV quotes a value for CSV when it needs it.
func appendCSV(dst []byte, v string) []byte {
	if v != "" && !strings.ContainsAny(v, ",\"\n\r") {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	dst = append(dst, strings.ReplaceAll(v, `"`, `""`)...)
	return append(dst, '"')
}

// tableRows is a fixed result the server made itself.
type tableRows struct {
	cols []sluice.Column
	rows []sluice.Row
	i    int
}

func newTableRows(cols []sluice.Column, rows []sluice.Row) *tableRows {
	return &tableRows{cols: cols, rows: rows, i: -1}
}

func (r *tableRows) Columns() []sluice.Column { return r.cols }
func (r *tableRows) Result() sluice.Result    { return sluice.Result{} }
func (r *tableRows) Next() bool {
	if r.i+1 >= len(r.rows) {
		return false
	}
	r.i++
	return true
}
func (r *tableRows) Row() sluice.Row { return r.rows[r.i] }
func (r *tableRows) Err() error      { return nil }
func (r *tableRows) Close() error    { return nil }
