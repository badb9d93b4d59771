package server

import (
	"errors"

	"github.com/jackc/pgproto3/v2"
	"github.com/sluicedb/sluice/sql"
)

// The extended query protocol: Parse, Bind, Describe, Execute, Close (Sync
// and Flush are in dispatch). Errors send an ErrorResponse and make
// dispatch skip messages until Sync, as Postgres does.

// prepared is a parsed statement (Parse).
type prepared struct {
	st         *stmtInfo // with $n placeholders
	nparams    int
	paramTypes []uint32
}

// described keeps the rows a statement Describe started, so the Bind and
// Execute that usually follow run them instead of starting the query again:
// drivers describe a statement to learn its columns, and sluice learns the
// columns of a query by starting it. A push query started twice would also
// miss the records that arrived in between. Rows nobody binds are closed at
// the second Sync after the Describe.
type described struct {
	stmt   *prepared
	stream *stream
	syncs  int
}

// agePending runs at Sync and closes described rows that were not bound.
func (c *conn) agePending() {
	if c.desc == nil {
		return
	}
	c.desc.syncs++
	if c.desc.syncs > 1 {
		c.desc.stream.close()
		c.desc = nil
	}
}

func (c *conn) protoError(err error) stmtOutcome {
	c.fail(c.errorResponse("", 0, err))
	return stmtFailed
}

func (c *conn) parse(m *pgproto3.Parse) stmtOutcome {
	if _, dup := c.stmts[m.Name]; dup && m.Name != "" {
		return c.protoError(sql.Errorf(codeDuplicatePrepared, sql.Pos{}, "prepared statement %q already exists", m.Name))
	}
	parts, err := splitStatements(m.Query)
	if err != nil {
		c.fail(c.errorResponse(m.Query, 0, err))
		return stmtFailed
	}
	if len(parts) > 1 {
		return c.protoError(sql.Errorf(codeSyntax, sql.Pos{}, "cannot insert multiple commands into a prepared statement"))
	}
	text, base := "", 0
	if len(parts) == 1 {
		text, base = parts[0].text, parts[0].base
	}
	st, err := classify(text)
	if err != nil {
		c.fail(c.errorResponse(m.Query, base, err))
		return stmtFailed
	}
	n, err := paramCount(st.toks)
	if err != nil {
		c.fail(c.errorResponse(m.Query, base, err))
		return stmtFailed
	}
	n = max(n, len(m.ParameterOIDs))
	ps := &prepared{st: st, nparams: n, paramTypes: inferParamTypes(st.toks, n, m.ParameterOIDs, c.columnTypes())}
	if c.desc != nil && c.desc.stmt == c.stmts[m.Name] {
		c.desc.stream.close()
		c.desc = nil
	}
	c.stmts[m.Name] = ps
	c.send(&pgproto3.ParseComplete{})
	return stmtDone
}

// bound returns the statement with parameter values in place of $n.
func (c *conn) bound(ps *prepared, values []*string) (*stmtInfo, error) {
	if ps.nparams == 0 {
		return ps.st, nil
	}
	return classify(bindParams(ps.st.text, ps.st.toks, ps.paramTypes, values))
}

func (c *conn) bind(m *pgproto3.Bind) stmtOutcome {
	ps := c.stmts[m.PreparedStatement]
	if ps == nil {
		return c.protoError(sql.Errorf(codeUndefinedPrepared, sql.Pos{}, "prepared statement %q does not exist", m.PreparedStatement))
	}
	if m.DestinationPortal != "" {
		if _, dup := c.portals[m.DestinationPortal]; dup {
			return c.protoError(sql.Errorf(codeDuplicateCursor, sql.Pos{}, "portal %q already exists", m.DestinationPortal))
		}
	}
	if len(m.Parameters) != ps.nparams {
		return c.protoError(sql.Errorf(codeProtocolViolation, sql.Pos{},
			"bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), m.PreparedStatement, ps.nparams))
	}
	if n := len(m.ParameterFormatCodes); n > 1 && n != len(m.Parameters) {
		return c.protoError(sql.Errorf(codeProtocolViolation, sql.Pos{}, "bind message has %d parameter formats but %d parameters", n, len(m.Parameters)))
	}
	values := make([]*string, len(m.Parameters))
	for i, raw := range m.Parameters {
		if raw == nil {
			continue
		}
		var f int16
		switch len(m.ParameterFormatCodes) {
		case 0:
		case 1:
			f = m.ParameterFormatCodes[0]
		default:
			f = m.ParameterFormatCodes[i]
		}
		v, err := paramText(ps.paramTypes[i], f, raw)
		if err != nil {
			code := codeInvalidBinaryFormat
			if !errors.Is(err, errBadParam) {
				code = codeFeatureNotSupport
			}
			return c.protoError(sql.Errorf(code, sql.Pos{}, "parameter $%d: %s", i+1, err.Error()))
		}
		values[i] = &v
	}
	st, err := c.bound(ps, values)
	if err != nil {
		return c.protoError(err)
	}
	p := &portal{st: st, formats: m.ResultFormatCodes}
	if c.desc != nil && c.desc.stmt == ps && ps.nparams == 0 {
		p.stream = c.desc.stream
		c.desc = nil
	}
	c.replacePortal(m.DestinationPortal, p)
	c.send(&pgproto3.BindComplete{})
	return stmtDone
}

func (c *conn) describe(m *pgproto3.Describe) stmtOutcome {
	switch m.ObjectType {
	case 'S':
		ps := c.stmts[m.Name]
		if ps == nil {
			return c.protoError(sql.Errorf(codeUndefinedPrepared, sql.Pos{}, "prepared statement %q does not exist", m.Name))
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: ps.paramTypes})
		if !ps.st.rows {
			c.send(&pgproto3.NoData{})
			return stmtDone
		}
		s, err := c.describeStream(ps)
		if err != nil {
			return c.protoError(err)
		}
		c.send(s.description(nil))
		return stmtDone
	case 'P':
		p := c.portals[m.Name]
		if p == nil {
			return c.protoError(sql.Errorf(codeUndefinedCursor, sql.Pos{}, "portal %q does not exist", m.Name))
		}
		switch {
		case p.st.kind == kindFetch:
			cur := c.portals[p.st.name]
			if cur == nil || !cur.cursor {
				return c.protoError(sql.Errorf(codeUndefinedCursor, sql.Pos{}, "cursor %q does not exist", p.st.name))
			}
			c.send(cur.stream.description(p.formats))
		case !p.st.rows || p.st.kind == kindCopy:
			c.send(&pgproto3.NoData{})
		default:
			if p.stream == nil {
				s, err := c.open(p.st)
				if err != nil {
					return c.protoError(err)
				}
				p.stream = s
			}
			c.send(p.stream.description(p.formats))
		}
		return stmtDone
	}
	return c.protoError(sql.Errorf(codeProtocolViolation, sql.Pos{}, "invalid Describe object type %q", m.ObjectType))
}

// describeStream starts a statement to learn its columns. Without
// parameters the rows are kept for the Bind that follows (see described);
// with parameters it runs with NULLs and is closed at once.
func (c *conn) describeStream(ps *prepared) (*stream, error) {
	if c.desc != nil {
		if c.desc.stmt == ps {
			return c.desc.stream, nil
		}
		c.desc.stream.close()
		c.desc = nil
	}
	if ps.st.kind == kindFetch {
		cur := c.portals[ps.st.name]
		if cur == nil || !cur.cursor {
			return nil, sql.Errorf(codeUndefinedCursor, sql.Pos{}, "cursor %q does not exist", ps.st.name)
		}
		return cur.stream, nil
	}
	if ps.st.kind == kindCopy {
		return &stream{}, nil
	}
	// Placeholder values of each parameter's type: the engine rejects
	// comparisons with a NULL literal, and only the columns matter here.
	values := make([]*string, ps.nparams)
	for i, oid := range ps.paramTypes {
		v := placeholderValue(oid)
		values[i] = &v
	}
	st, err := c.bound(ps, values)
	if err != nil {
		return nil, err
	}
	s, err := c.open(st)
	if err != nil {
		return nil, err
	}
	if ps.nparams == 0 {
		c.desc = &described{stmt: ps, stream: s}
		return s, nil
	}
	desc := &stream{cols: s.cols, types: s.types}
	s.close()
	return desc, nil
}

func (c *conn) execute(m *pgproto3.Execute) stmtOutcome {
	p := c.portals[m.Portal]
	if p == nil {
		return c.protoError(sql.Errorf(codeUndefinedCursor, sql.Pos{}, "portal %q does not exist", m.Portal))
	}
	out := c.run(p, int64(m.MaxRows), false, "", 0)
	if out == stmtDone && p.stream != nil && p.stream.done && m.Portal == "" {
		// The unnamed portal is done; release its rows now rather than at
		// the next Bind.
		p.close()
	}
	return out
}

func (c *conn) closeMsg(m *pgproto3.Close) stmtOutcome {
	switch m.ObjectType {
	case 'S':
		if ps := c.stmts[m.Name]; ps != nil {
			if c.desc != nil && c.desc.stmt == ps {
				c.desc.stream.close()
				c.desc = nil
			}
			delete(c.stmts, m.Name)
		}
	case 'P':
		if p := c.portals[m.Name]; p != nil {
			p.close()
			delete(c.portals, m.Name)
		}
	default:
		return c.protoError(sql.Errorf(codeProtocolViolation, sql.Pos{}, "invalid Close object type %q", m.ObjectType))
	}
	c.send(&pgproto3.CloseComplete{})
	return stmtDone
}

// placeholderValue is a value of a parameter type, for describing a
// statement before its parameters are known.
func placeholderValue(oid uint32) string {
	switch oid {
	case oidBool:
		return "false"
	case oidInt2, oidInt4, oidInt8, oidOID, oidFloat4, oidFloat8, oidNumeric:
		return "0"
	case oidDate:
		return "1970-01-01"
	case oidTime:
		return "00:00:00"
	case oidTimestamp, oidTimestampTZ:
		return "1970-01-01 00:00:00"
	}
	return ""
}
