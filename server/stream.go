package server

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgproto3/v2"
	"github.com/sluicedb/sluice"
)

// stream is a running statement's rows: a pull query's table, a push
// query's endless changes, or a result the server made itself. It lives in
// a portal (an extended-protocol portal, a DECLAREd cursor, or the unnamed
// portal of a simple query) and may be read in several steps (Execute with
// a row limit, FETCH n).
//
// A producer goroutine calls Rows.Next and hands rows over a channel, so
// that output is flushed exactly when no further row is ready: a pull
// query's rows go out in large writes, and each row of a push query reaches
// the socket as soon as it exists. Rows read ahead stay in the channel for
// the next step.
type stream struct {
	rows  Rows
	cols  []sluice.Column
	types []pgType

	ctx       context.Context // cancelled to stop the statement
	cancel    context.CancelCauseFunc
	stopClose func() bool

	ch   chan sluice.Row // nil until the first pump
	done bool            // the rows ended (ch closed)
	sent int64           // rows sent so far, for the command tag
}

func newStream(parent context.Context) *stream {
	ctx, cancel := context.WithCancelCause(parent)
	return &stream{ctx: ctx, cancel: cancel}
}

// attach sets the rows; types overrides the Postgres types of the columns
// (nil: derived from the ksqlDB type names).
func (s *stream) attach(rows Rows, types []pgType) {
	s.rows = rows
	s.cols = rows.Columns()
	if types == nil {
		types = make([]pgType, len(s.cols))
		for i, c := range s.cols {
			types[i] = pgTypeOf(c.Type)
		}
	}
	s.types = types
	// Cancelling the statement must also unblock Next, whatever the engine
	// does with the context: Rows.Close may be called from any goroutine.
	s.stopClose = context.AfterFunc(s.ctx, func() { rows.Close() })
}

// close stops the statement and waits for the producer.
func (s *stream) close() {
	s.cancel(errPortalClosed)
	if s.ch != nil {
		for range s.ch {
		}
	}
	if s.rows != nil {
		s.rows.Close()
	}
}

// formatOf returns the format code of column i under Bind's result formats:
// none means text, one applies to all, else one per column. Types without a
// binary format go as text, and the RowDescription says so.
func (s *stream) formatOf(formats []int16, i int) int16 {
	f := int16(0)
	switch {
	case len(formats) == 1:
		f = formats[0]
	case i < len(formats):
		f = formats[i]
	}
	if f == 1 && !hasBinary(s.types[i].OID) {
		return 0
	}
	return f
}

// description is the RowDescription of the stream under result formats.
func (s *stream) description(formats []int16) pgproto3.BackendMessage {
	if s.cols == nil {
		return &pgproto3.NoData{}
	}
	fields := make([]pgproto3.FieldDescription, len(s.cols))
	for i, col := range s.cols {
		t := s.types[i]
		fields[i] = pgproto3.FieldDescription{
			Name:         []byte(col.Name),
			DataTypeOID:  t.OID,
			DataTypeSize: t.Size,
			TypeModifier: t.Typmod,
			Format:       s.formatOf(formats, i),
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// rowEncoder renders rows as DataRow messages. One buffer holds a row's
// rendered values; fields slice it once it stops growing. Send encodes a
// copy, so both are reused from row to row.
type rowEncoder struct {
	oids    []uint32
	formats []int16
	buf     []byte
	offs    []int
	fields  [][]byte
}

func (s *stream) encoder(formats []int16) *rowEncoder {
	e := &rowEncoder{oids: make([]uint32, len(s.cols)), formats: make([]int16, len(s.cols)),
		fields: make([][]byte, len(s.cols))}
	for i := range s.cols {
		e.oids[i] = s.types[i].OID
		e.formats[i] = s.formatOf(formats, i)
	}
	return e
}

func (e *rowEncoder) encode(row sluice.Row) (*pgproto3.DataRow, error) {
	if len(row.Values) != len(e.oids) {
		return nil, errors.New("server: row has " + strconv.Itoa(len(row.Values)) +
			" values for " + strconv.Itoa(len(e.oids)) + " columns")
	}
	e.buf, e.offs = e.buf[:0], e.offs[:0]
	var err error
	for i, v := range row.Values {
		e.offs = append(e.offs, len(e.buf))
		if v == nil {
			e.fields[i] = nil
			continue
		}
		if e.formats[i] == 1 {
			e.buf, err = appendBinary(e.buf, e.oids[i], v)
		} else {
			e.buf, err = appendText(e.buf, v)
		}
		if err != nil {
			return nil, err
		}
		e.fields[i] = []byte{} // marks non-NULL; resliced below
	}
	e.offs = append(e.offs, len(e.buf))
	for i := range e.fields {
		if e.fields[i] != nil {
			e.fields[i] = e.buf[e.offs[i]:e.offs[i+1]:e.offs[i+1]]
		}
	}
	return &pgproto3.DataRow{Values: e.fields}, nil
}

// pump sends up to limit rows (0: all) of s as DataRows. It returns how
// many it sent and whether it stopped at the limit with the rows not known
// to be done (suspended). A statement that was interrupted (cancel,
// disconnect, shutdown) has out != stmtDone, its error already sent.
func (c *conn) pump(s *stream, limit int64, enc *rowEncoder) (n int64, suspended bool, out stmtOutcome, err error) {
	return c.pumpWith(s, limit, func(row sluice.Row) error {
		m, err := enc.encode(row)
		if err != nil {
			return err
		}
		return c.be.Send(m)
	})
}

// pumpWith is pump with any row sink (COPY uses CopyData). A sink error
// other than a failed write is an engine bug (a value it cannot render): it
// stops the statement and is reported.
func (c *conn) pumpWith(s *stream, limit int64, emit func(sluice.Row) error) (n int64, suspended bool, out stmtOutcome, err error) {
	if s.done || s.cols == nil {
		return 0, false, stmtDone, nil
	}
	c.setCancel(s.cancel)
	defer c.setCancel(nil)
	stop := watch(s.ctx, c.gone, func() { s.cancel(errClientGone) })
	defer stop()
	if s.ch == nil {
		s.ch = make(chan sluice.Row, 64)
		go func(rows Rows, ch chan<- sluice.Row, ctx context.Context) {
			defer close(ch)
			for rows.Next() {
				select {
				case ch <- rows.Row():
				case <-ctx.Done():
					return
				}
			}
		}(s.rows, s.ch, s.ctx)
	}
	for limit <= 0 || n < limit {
		var row sluice.Row
		var ok bool
		select {
		case row, ok = <-s.ch:
		default:
			if ferr := c.bw.Flush(); ferr != nil {
				s.cancel(errWriteFailed)
				return n, false, connDone, nil
			}
			row, ok = <-s.ch
		}
		if !ok {
			s.done = true
			if o, isInt := c.interrupted(s.ctx); isInt {
				return n, false, o, nil
			}
			return n, false, stmtDone, s.rows.Err()
		}
		if eerr := emit(row); eerr != nil {
			if isClosedConnErr(eerr) {
				s.cancel(errWriteFailed)
				return n, false, connDone, nil
			}
			s.cancel(eerr)
			s.drain()
			return n, false, stmtDone, eerr
		}
		n++
		s.sent++
	}
	return n, true, stmtDone, nil
}

// drain waits for the producer after the statement was cancelled: Rows is
// not safe for concurrent use.
func (s *stream) drain() {
	for range s.ch {
	}
	s.done = true
}
