package exec

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluicedb/sluice/exec/agg"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/storage"
)

// join is the operator of JoinSpec.
//
// # State layout
//
// K is the join key encoded with agg.AppendValue (canonical and prefix-free,
// so a key followed by more fields never collides with another key), then,
// for windowed sources, its window bounds (JoinSide.WindowCols), likewise; s is
// the side (0 left, 1 right); t is a time and n a sequence number, both
// storage.AppendInt64 (order-preserving). A row is its columns' values
// encoded with agg.AppendValue one after the other.
//
//	0x00            meta: stream time, the two sides' observed times, sequence
//	0x01 s K t n    a stream side's row (window state), indexed in
//	                memory by joinWindowIndex
//	0x02 s t K n    (earlier versions: an index of 0x01 by time; removed
//	                on open)
//	0x03 t s K n    an unmatched row waiting for its window to close
//	                (DeferOuter), in time order as Kafka Streams' outer store
//	0x04 s K        a table side's current row
//	0x05 K P        ForeignKey: the left row with primary key P (encoded
//	                as K) whose foreign key is K
//
// # Time
//
// As Kafka Streams' stream-stream join, the operator keeps a stream time
// shared by both sides (the largest row time it received) and, per side,
// the largest time put into that side's window state. A side's row is kept
// while its time is above the side's observed time minus the window's
// retention: older rows are not stored and are no longer found (Kafka
// Streams' window store drops them by segment, so it may keep a few
// longer). Rows are handled one at a time in arrival order, so results do
// not depend on batch sizes.
type join struct {
	spec   JoinSpec
	next   Operator
	tc     *TaskContext
	store  StateStore
	schema *arrow.Schema
	mem    memory.Allocator
	ports  [2]*joinPort

	opens, closes int
	closeErr      error

	// meta, persisted under 0x00 when dirty.
	streamTime int64
	sideTime   [2]int64
	seq        int64
	metaDirty  bool

	// Output of the current Push, flushed as one batch.
	bld   []array.Builder
	kinds []ChangeKind

	// win indexes the window state of a stream-stream join.
	win joinWindowIndex

	// tableRows caches the decoded rows of the table sides
	// (getTableRow), each with the stored bytes it was decoded from.
	tableRows [2]map[string]cachedRow

	keyBuf, rowKey []byte
}

// joinPort is one entry port of a join: Push feeds the join's side.
type joinPort struct {
	j    *join
	side int
}

var (
	_ Operator = (*join)(nil)
	_ Operator = (*joinPort)(nil)
)

// Join is a join operator built from a JoinSpec: push the left input into
// Port(0) and the right input into Port(1).
type Join interface {
	Operator
	Port(side int) Operator
}

// NewJoin returns the operator of spec in front of next.
func NewJoin(spec JoinSpec, next Operator) (Join, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	schema, _ := spec.Schema()
	j := &join{spec: spec, next: next, schema: schema, mem: memory.DefaultAllocator,
		streamTime: NoStreamTime, sideTime: [2]int64{NoStreamTime, NoStreamTime}}
	j.ports = [2]*joinPort{{j: j, side: 0}, {j: j, side: 1}}
	return j, nil
}

func (j *join) Port(side int) Operator { return j.ports[side] }

func (p *joinPort) Open(tc *TaskContext) error                   { return p.j.Open(tc) }
func (p *joinPort) Push(ctx context.Context, b Batch) error      { return p.j.push(ctx, p.side, b) }
func (p *joinPort) Watermark(ctx context.Context, t int64) error { return p.j.Watermark(ctx, t) }
func (p *joinPort) Flush(ctx context.Context) error              { return p.j.Flush(ctx) }
func (p *joinPort) Close() error                                 { return p.j.Close() }

// Open opens the state and the next operator; the ports call it too, and
// only the first call does the work.
func (j *join) Open(tc *TaskContext) error {
	j.opens++
	if j.opens > 1 {
		return nil
	}
	j.tc = tc
	if tc == nil || tc.OpenState == nil {
		return fmt.Errorf("join %s: the task has no state", j.spec.Name)
	}
	st, err := tc.OpenState(j.spec.Name)
	if err != nil {
		return fmt.Errorf("join %s: open state: %w", j.spec.Name, err)
	}
	j.store = st
	if err := j.loadMeta(); err != nil {
		return err
	}
	if spec := j.spec; spec.Kind == StreamStream {
		if err := j.loadWindow(); err != nil {
			return fmt.Errorf("join %s: %w", spec.Name, err)
		}
	}
	j.bld = make([]array.Builder, j.schema.NumFields())
	for i, f := range j.schema.Fields() {
		j.bld[i] = array.NewBuilder(j.mem, f.Type)
	}
	return j.next.Open(tc)
}

// Push on the operator itself feeds the left side (Port(0)).
func (j *join) Push(ctx context.Context, b Batch) error { return j.push(ctx, 0, b) }

func (j *join) Watermark(ctx context.Context, t int64) error { return j.next.Watermark(ctx, t) }

// Flush persists the meta and expires window state, then flushes next.
func (j *join) Flush(ctx context.Context) error {
	if j.store != nil {
		if err := j.expire(); err != nil {
			return err
		}
		if err := j.saveMeta(); err != nil {
			return err
		}
	}
	return j.next.Flush(ctx)
}

// Close closes next once, when the last opener closes.
func (j *join) Close() error {
	j.closes++
	if j.closes > 1 {
		return j.closeErr
	}
	for _, b := range j.bld {
		if b != nil {
			b.Release()
		}
	}
	j.bld = nil
	j.closeErr = j.next.Close()
	return j.closeErr
}

const (
	joinMeta    byte = 0x00
	joinWindow  byte = 0x01
	joinByTime  byte = 0x02 // earlier versions' index by time
	joinPending byte = 0x03
	joinTable   byte = 0x04
	joinFKIndex byte = 0x05
)

func (j *join) loadMeta() error {
	v, ok, err := j.store.Get([]byte{joinMeta})
	if err != nil {
		return fmt.Errorf("join %s: %w", j.spec.Name, err)
	}
	if !ok {
		return nil
	}
	if len(v) != 32 {
		return fmt.Errorf("join %s: corrupt meta (%d bytes)", j.spec.Name, len(v))
	}
	j.streamTime = int64(binary.BigEndian.Uint64(v))
	j.sideTime[0] = int64(binary.BigEndian.Uint64(v[8:]))
	j.sideTime[1] = int64(binary.BigEndian.Uint64(v[16:]))
	j.seq = int64(binary.BigEndian.Uint64(v[24:]))
	return nil
}

func (j *join) saveMeta() error {
	if !j.metaDirty {
		return nil
	}
	var v [32]byte
	binary.BigEndian.PutUint64(v[:], uint64(j.streamTime))
	binary.BigEndian.PutUint64(v[8:], uint64(j.sideTime[0]))
	binary.BigEndian.PutUint64(v[16:], uint64(j.sideTime[1]))
	binary.BigEndian.PutUint64(v[24:], uint64(j.seq))
	j.metaDirty = false
	return j.store.Put([]byte{joinMeta}, v[:])
}

// push handles a batch of one side row by row, then emits the results as
// one batch.
func (j *join) push(ctx context.Context, side int, b Batch) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	sd := j.sideSpec(side)
	if got := b.Rec.NumCols(); got != int64(sd.Schema.NumFields()) {
		return fmt.Errorf("join %s: side %d: %d columns, expected %d", j.spec.Name, side, got, sd.Schema.NumFields())
	}
	row := make([]any, sd.Schema.NumFields())
	for i := 0; i < n; i++ {
		for c := range row {
			row[c] = expr.ValueAt(b.Rec.Column(c), i)
		}
		var err error
		switch j.spec.Kind {
		case StreamStream:
			err = j.streamRow(side, row)
		case StreamTable:
			if side == 0 {
				err = j.streamTableProbe(row)
			} else {
				err = j.tableUpdate(side, b.Kind(i), row, false)
			}
		case TableTable:
			err = j.tableUpdate(side, b.Kind(i), row, true)
		case ForeignKey:
			if side == 0 {
				err = j.fkLeft(row)
			} else {
				err = j.fkRight(b.Kind(i), row)
			}
		}
		if err != nil {
			return fmt.Errorf("join %s: %w", j.spec.Name, err)
		}
	}
	return j.emit(ctx)
}

func (j *join) sideSpec(side int) JoinSide {
	if side == 0 {
		return j.spec.Left
	}
	return j.spec.Right
}

// rowTime returns the event time of a row of side.
func (j *join) rowTime(side int, row []any) (int64, bool) {
	switch v := row[j.sideSpec(side).TimeCol].(type) {
	case expr.Timestamp:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// keyOf encodes the join key of row into j.keyBuf, followed by its window
// bounds for a windowed source; ok is false for a NULL key.
func (j *join) keyOf(side int, row []any) ([]byte, bool) {
	spec := j.sideSpec(side)
	v := row[spec.KeyCol]
	if v == nil {
		return nil, false
	}
	j.keyBuf = agg.AppendValue(j.keyBuf[:0], v)
	for _, c := range spec.WindowCols {
		j.keyBuf = agg.AppendValue(j.keyBuf, row[c])
	}
	return j.keyBuf, true
}

func (j *join) advance(t int64) {
	if t > j.streamTime {
		j.streamTime = t
		j.metaDirty = true
	}
}

// ---- stream-stream ----

// streamRow handles a row of a stream-stream join, in the order of Kafka
// Streams' KStreamKStreamJoin: emit the unmatched rows whose windows closed
// (if the row is not late), store the row, join it with the other side's
// rows in its window, and emit it NULL-padded if it matched nothing and its
// side is outer.
func (j *join) streamRow(side int, row []any) error {
	t, ok := j.rowTime(side, row)
	if !ok {
		j.tc.metrics().DroppedNulls.Add(1)
		return nil
	}
	key, ok := j.keyOf(side, row)
	if !ok {
		// ksqlDB drops stream rows with a NULL join key (Kafka Streams'
		// skipRecord), and so does an outer join.
		j.tc.metrics().DroppedNulls.Add(1)
		return nil
	}
	key = append([]byte(nil), key...)
	w := j.spec.Window
	j.advance(t)
	if w.DeferOuter && t == j.streamTime {
		if err := j.emitClosed(); err != nil {
			return err
		}
	}
	// One sequence number names the row in the window state and, if it
	// waits unmatched, in the pending state, so a match finds both.
	j.seq++
	j.metaDirty = true
	n := storage.AppendInt64(nil, j.seq)
	if err := j.storeWindowRow(side, key, t, row); err != nil {
		return err
	}
	other := 1 - side
	lo, hi := t-w.Before, t+w.After
	if side == 1 {
		lo, hi = t-w.After, t+w.Before
	}
	// Rows the other side's state has expired are not found.
	if live := j.sideTime[other] - w.Retention() + 1; lo < live {
		lo = live
	}
	matched := false
	if lo <= hi {
		// The values of the matches are read first: the store's results
		// are valid only until its next call.
		refs := j.win.find(other, key, lo, hi)
		matches := make([][]any, len(refs))
		for i, r := range refs {
			v, ok, err := j.store.Get(j.windowRowKey(other, key, r))
			if err == nil && !ok {
				err = fmt.Errorf("indexed row (%d, %d) missing", r.t, r.n)
			}
			if err == nil {
				matches[i], err = decodeValues(v, j.sideSpec(other).Schema.NumFields())
			}
			if err != nil {
				return fmt.Errorf("corrupt window state: %w", err)
			}
		}
		for i, r := range refs {
			matched = true
			l, rv := row, matches[i]
			if side == 1 {
				l, rv = matches[i], row
			}
			j.appendRow(Insert, row[j.sideSpec(side).KeyCol], l, rv, max(t, r.t))
			if w.DeferOuter && j.spec.Type.outer(other) {
				// The other row found a partner: it is no longer pending.
				if err := j.store.Delete(pendingKey(r.t, other, key, storage.AppendInt64(nil, r.n))); err != nil {
					return err
				}
			}
		}
	}
	if matched || !j.spec.Type.outer(side) {
		return nil
	}
	lookahead := w.After
	if side == 1 {
		lookahead = w.Before
	}
	if !w.DeferOuter || t+lookahead < j.streamTime {
		// Without a grace period ksqlDB emits at once; with one, a row
		// whose window has already closed cannot be matched any more.
		j.appendPadded(side, row, t)
		return nil
	}
	return j.store.Put(pendingKey(t, side, key, n), encodeRow(row))
}

func pendingKey(t int64, side int, key, n []byte) []byte {
	k := storage.AppendInt64([]byte{joinPending}, t)
	k = append(append(k, byte(side)), key...)
	return append(k, n...)
}

// storeWindowRow puts a stream row into its side's window state under
// the current sequence number, unless it is already older than the side's retention.
func (j *join) storeWindowRow(side int, key []byte, t int64, row []any) error {
	if t > j.sideTime[side] {
		j.sideTime[side] = t
		j.metaDirty = true
	}
	if t <= j.sideTime[side]-j.spec.Window.Retention() {
		j.tc.metrics().LateRecords.Add(1)
		return nil
	}
	r := joinRef{t: t, n: j.seq}
	if err := j.store.Put(j.windowRowKey(side, key, r), encodeRow(row)); err != nil {
		return err
	}
	j.win.add(side, key, r)
	return nil
}

// windowRowKey returns the state key of side's row r under key, in a
// buffer reused by the next call.
func (j *join) windowRowKey(side int, key []byte, r joinRef) []byte {
	k := append(append(j.rowKey[:0], joinWindow, byte(side)), key...)
	k = storage.AppendInt64(storage.AppendInt64(k, r.t), r.n)
	j.rowKey = k
	return k
}

// loadWindow rebuilds the window index from the window state, and removes
// the stored index by time that earlier versions kept.
func (j *join) loadWindow() error {
	var derr error
	err := j.store.Scan([]byte{joinWindow}, []byte{joinWindow + 1}, func(k, _ []byte) bool {
		if len(k) < 2+16 || k[1] > 1 {
			derr = fmt.Errorf("corrupt window key %x", k)
			return false
		}
		tn := k[len(k)-16:]
		t, tn, _ := storage.DecodeInt64(tn)
		n, _, _ := storage.DecodeInt64(tn)
		j.win.add(int(k[1]), k[2:len(k)-16], joinRef{t: t, n: n})
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	return deleteRange(j.store, []byte{joinByTime}, []byte{joinByTime + 1})
}

// emitClosed emits, NULL-padded, the pending unmatched rows whose windows
// have closed: a left row at t when stream time > t + After + Grace, a
// right row when stream time > t + Before + Grace. Pending rows are in time
// order; once a side meets an open window, its later rows are open too.
func (j *join) emitClosed() error {
	w := j.spec.Window
	// A side that is not outer never has pending rows: count it as open so
	// the scan stops as soon as every outer side met an open window.
	open := [2]bool{!j.spec.Type.outer(0), !j.spec.Type.outer(1)}
	type done struct {
		key  []byte
		side int
		t    int64
		vals []any
	}
	var out []done
	var scanErr error
	err := j.store.Scan([]byte{joinPending}, []byte{joinPending + 1}, func(k, v []byte) bool {
		t, rest, err := storage.DecodeInt64(k[1:])
		if err != nil || len(rest) < 1 {
			scanErr = fmt.Errorf("corrupt pending key")
			return false
		}
		side := int(rest[0])
		if side > 1 {
			scanErr = fmt.Errorf("corrupt pending key side %d", side)
			return false
		}
		if open[side] {
			return !(open[0] && open[1])
		}
		lookahead := w.After
		if side == 1 {
			lookahead = w.Before
		}
		if t+lookahead+w.Grace >= j.streamTime {
			open[side] = true
			return !(open[0] && open[1])
		}
		vals, err := decodeValues(v, j.sideSpec(side).Schema.NumFields())
		if err != nil {
			scanErr = err
			return false
		}
		out = append(out, done{key: append([]byte(nil), k...), side: side, t: t, vals: vals})
		return true
	})
	if err == nil {
		err = scanErr
	}
	if err != nil {
		return fmt.Errorf("pending rows: %w", err)
	}
	for _, d := range out {
		j.appendPadded(d.side, d.vals, d.t)
		if err := j.store.Delete(d.key); err != nil {
			return err
		}
	}
	return nil
}

// expire deletes the window rows each side no longer retains.
func (j *join) expire() error {
	if j.spec.Kind != StreamStream {
		return nil
	}
	for side := 0; side < 2; side++ {
		if j.sideTime[side] == NoStreamTime {
			continue
		}
		cut := j.sideTime[side] - j.spec.Window.Retention() // rows at or below cut are gone
		err := j.win.expire(side, cut, func(key string, r joinRef) error {
			return j.store.Delete(j.windowRowKey(side, []byte(key), r))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- tables ----

func tableKey(side int, key []byte) []byte {
	return append([]byte{joinTable, byte(side)}, key...)
}

// cachedRow is a decoded table row and the stored bytes it came from.
type cachedRow struct {
	raw  []byte
	vals []any
}

// maxCachedTableRows bounds each table side's decoded-row cache; a full
// cache starts over.
const maxCachedTableRows = 1 << 16

// getTableRow reads side's current row for key (nil when absent). The
// returned values are shared with the decoded-row cache: callers only read
// them.
//
// A stream-table join probes the same table rows again and again, and
// decoding one (boxing every value) cost more than the store read. The
// cache is checked against the bytes the store holds now, so it can never
// serve a row the store no longer has (a failed cycle's discarded writes
// included); comparing the bytes is far cheaper than decoding them.
func (j *join) getTableRow(side int, key []byte) ([]any, error) {
	v, ok, err := j.store.Get(tableKey(side, key))
	if err != nil || !ok {
		return nil, err
	}
	cache := j.tableRows[side]
	if c, ok := cache[string(key)]; ok && bytes.Equal(c.raw, v) {
		return c.vals, nil
	}
	vals, err := decodeValues(v, j.sideSpec(side).Schema.NumFields())
	if err != nil {
		return nil, fmt.Errorf("corrupt table state: %w", err)
	}
	if cache == nil || len(cache) >= maxCachedTableRows {
		cache = make(map[string]cachedRow)
		j.tableRows[side] = cache
	}
	cache[string(key)] = cachedRow{raw: bytes.Clone(v), vals: vals}
	return vals, nil
}

// streamTableProbe joins a stream row to the table's current row.
func (j *join) streamTableProbe(row []any) error {
	t, ok := j.rowTime(0, row)
	if !ok {
		j.tc.metrics().DroppedNulls.Add(1)
		return nil
	}
	j.advance(t)
	key, ok := j.keyOf(0, row)
	if !ok {
		j.tc.metrics().DroppedNulls.Add(1)
		return nil
	}
	r, err := j.getTableRow(1, key)
	if err != nil {
		return err
	}
	switch {
	case r != nil:
		j.appendRow(Insert, row[j.spec.Left.KeyCol], row, r, t)
	case j.spec.Type == JoinLeft:
		j.appendPadded(0, row, t)
	}
	return nil
}

// tableUpdate applies a change of a table side. For a table-table join
// (emit) it emits the change of the joined row: the old result is the
// side's old row joined with the other side's row, the new result its new
// row joined with it.
func (j *join) tableUpdate(side int, kind ChangeKind, row []any, emit bool) error {
	if kind == UpdateBefore {
		return nil // the UpdateAfter that follows carries the new row
	}
	t, _ := j.rowTime(side, row)
	j.advance(t)
	key, ok := j.keyOf(side, row)
	if !ok {
		j.tc.metrics().DroppedNulls.Add(1)
		return nil
	}
	key = append([]byte(nil), key...)
	old, err := j.getTableRow(side, key)
	if err != nil {
		return err
	}
	var cur []any
	if kind == Delete {
		if old == nil {
			// A tombstone for a key the table never had changes nothing.
			j.tc.metrics().UnknownTombstones.Add(1)
			return nil
		}
		if err := j.store.Delete(tableKey(side, key)); err != nil {
			return err
		}
	} else {
		cur = row
		if err := j.store.Put(tableKey(side, key), encodeRow(row)); err != nil {
			return err
		}
	}
	if !emit {
		return nil
	}
	other, err := j.getTableRow(1-side, key)
	if err != nil {
		return err
	}
	result := func(this []any) (l, r []any, ok bool) {
		l, r = this, other
		if side == 1 {
			l, r = other, this
		}
		switch j.spec.Type {
		case JoinInner:
			ok = l != nil && r != nil
		case JoinLeft:
			ok = l != nil
		case JoinRight:
			ok = r != nil
		case JoinOuter:
			ok = l != nil || r != nil
		}
		return l, r, ok
	}
	rt := t
	if other != nil {
		if ot, ok := j.rowTime(1-side, other); ok {
			rt = max(rt, ot)
		}
	}
	keyVal := row[j.sideSpec(side).KeyCol]
	ol, or, hadOld := result(old)
	nl, nr, hasNew := result(cur)
	switch {
	case hadOld && hasNew:
		j.appendRow(UpdateBefore, keyVal, ol, or, rt)
		j.appendRow(UpdateAfter, keyVal, nl, nr, rt)
	case hasNew:
		j.appendRow(Insert, keyVal, nl, nr, rt)
	case hadOld:
		j.appendRow(Delete, keyVal, ol, or, rt)
	}
	return nil
}

// ---- foreign key ----
//
// A ForeignKey join's task holds the right table's rows (0x04 1 K) and an
// index of the left rows by foreign key (0x05 K P). Each left change
// arrives in the partition of its foreign key; when a left row moves to
// another foreign key, its UpdateBefore (old key) and UpdateAfter (new
// key) may reach different tasks, so the old one only leaves the index and
// the new one decides the result, as Kafka Streams' subscription
// instructions do. Results carry the time of the change that caused them.

// fkIndexKey is the index entry of the left row with encoded primary key
// pk under foreign key fk.
func fkIndexKey(fk, pk []byte) []byte {
	return append(append([]byte{joinFKIndex}, fk...), pk...)
}

// fkLeft applies a change of the left table.
func (j *join) fkLeft(row []any) error {
	kv, ok := row[j.spec.LeftChangeCol].(int32)
	if !ok {
		return fmt.Errorf("left row without its change kind")
	}
	kind := ChangeKind(kv)
	t, _ := j.rowTime(0, row)
	j.advance(t)
	var pk []byte
	for _, c := range j.spec.LeftPK {
		pk = agg.AppendValue(pk, row[c])
	}
	fk, hasFK := j.keyOf(0, row)
	var idx []byte
	if hasFK {
		idx = fkIndexKey(fk, pk)
	}
	keyVal := row[j.spec.Left.KeyCol]
	switch kind {
	case UpdateBefore:
		if hasFK {
			return j.store.Delete(idx)
		}
		return nil
	case Delete:
		if hasFK {
			if err := j.store.Delete(idx); err != nil {
				return err
			}
		}
		j.appendRow(Delete, keyVal, row, nil, t)
		return nil
	}
	var r []any
	if hasFK {
		if err := j.store.Put(idx, encodeRow(row)); err != nil {
			return err
		}
		var err error
		if r, err = j.getTableRow(1, fk); err != nil {
			return err
		}
	}
	switch {
	case r != nil:
		j.appendRow(Insert, keyVal, row, r, t)
	case j.spec.Type == JoinLeft:
		j.appendRow(Insert, keyVal, row, nil, t)
	case kind == UpdateAfter:
		// The row may have joined under its old foreign key: retract it.
		// A new row that matches nothing has no result to retract.
		j.appendRow(Delete, keyVal, row, nil, t)
	}
	return nil
}

// fkRight applies a change of the right table and re-emits every left row
// that references it.
func (j *join) fkRight(kind ChangeKind, row []any) error {
	if kind == UpdateBefore {
		return nil // the UpdateAfter that follows carries the new row
	}
	t, _ := j.rowTime(1, row)
	j.advance(t)
	key, ok := j.keyOf(1, row)
	if !ok {
		j.tc.metrics().DroppedNulls.Add(1)
		return nil
	}
	key = append([]byte(nil), key...)
	var cur []any
	if kind == Delete {
		old, err := j.getTableRow(1, key)
		if err != nil {
			return err
		}
		if old == nil {
			j.tc.metrics().UnknownTombstones.Add(1)
			return nil
		}
		if err := j.store.Delete(tableKey(1, key)); err != nil {
			return err
		}
	} else {
		cur = row
		if err := j.store.Put(tableKey(1, key), encodeRow(row)); err != nil {
			return err
		}
	}
	prefix := append([]byte{joinFKIndex}, key...)
	var lefts [][]any
	var scanErr error
	err := j.store.Scan(prefix, storage.PrefixEnd(prefix), func(_, v []byte) bool {
		vals, err := decodeValues(v, j.spec.Left.Schema.NumFields())
		if err != nil {
			scanErr = err
			return false
		}
		lefts = append(lefts, vals)
		return true
	})
	if err == nil {
		err = scanErr
	}
	if err != nil {
		return fmt.Errorf("corrupt foreign-key index: %w", err)
	}
	keyVal := row[j.spec.Right.KeyCol]
	for _, l := range lefts {
		switch {
		case cur != nil:
			j.appendRow(Insert, keyVal, l, cur, t)
		case j.spec.Type == JoinLeft:
			j.appendRow(Insert, keyVal, l, nil, t)
		default:
			j.appendRow(Delete, keyVal, l, nil, t)
		}
	}
	return nil
}

// ---- output ----

// appendPadded appends a result for a row of side alone.
func (j *join) appendPadded(side int, row []any, t int64) {
	key := row[j.sideSpec(side).KeyCol]
	if side == 0 {
		j.appendRow(Insert, key, row, nil, t)
	} else {
		j.appendRow(Insert, key, nil, row, t)
	}
}

// appendRow appends an output row; a nil side is all NULLs.
func (j *join) appendRow(kind ChangeKind, key any, l, r []any, t int64) {
	c := 0
	app := func(v any) {
		if err := expr.AppendValue(j.bld[c], v); err != nil {
			// The values come from arrays of the declared types, so this
			// cannot fail short of a bug; keep the columns aligned.
			j.bld[c].AppendNull()
			j.tc.recordError(&j.tc.metrics().EvalErrors, fmt.Errorf("join %s: column %s: %w", j.spec.Name, j.schema.Field(c).Name, err))
		}
		c++
	}
	app(key)
	for _, side := range [2]struct {
		vals []any
		n    int
	}{{l, j.spec.Left.Schema.NumFields()}, {r, j.spec.Right.Schema.NumFields()}} {
		for i := 0; i < side.n; i++ {
			if side.vals == nil {
				j.bld[c].AppendNull()
				c++
			} else {
				app(side.vals[i])
			}
		}
	}
	app(expr.Timestamp(t))
	j.kinds = append(j.kinds, kind)
}

// emit pushes the rows appended since the last emit as one batch.
func (j *join) emit(ctx context.Context) error {
	if len(j.kinds) == 0 {
		return nil
	}
	cols := make([]arrow.Array, len(j.bld))
	for i, b := range j.bld {
		// The next batch is likely the size of this one: reserve its
		// room now, instead of growing the builder by doubling (and
		// copying) as rows arrive.
		rows, data := b.Len(), -1
		if sb, ok := b.(*array.StringBuilder); ok {
			data = sb.DataLen()
		}
		cols[i] = b.NewArray()
		b.Reserve(rows)
		if data > 0 {
			b.(*array.StringBuilder).ReserveData(data)
		}
	}
	rec := array.NewRecord(j.schema, cols, int64(len(j.kinds)))
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	var kinds []ChangeKind
	for _, k := range j.kinds {
		if k != Insert {
			kinds = append([]ChangeKind(nil), j.kinds...)
			break
		}
	}
	j.kinds = j.kinds[:0]
	return j.next.Push(ctx, Batch{Rec: rec, Kinds: kinds})
}

// encodeRow encodes a row's values for state.
func encodeRow(row []any) []byte {
	var b []byte
	for _, v := range row {
		b = agg.AppendValue(b, v)
	}
	return b
}
