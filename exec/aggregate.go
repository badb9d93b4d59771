package exec

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluicedb/sluice/exec/agg"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/storage"
)

// aggregate is the operator of AggregateSpec.
//
// # State layout
//
// Keys start with a one-byte space tag; G is the group key, the key
// columns' values encoded with agg.AppendValue one after the other (a
// prefix-free encoding, so G never collides with a longer key):
//
//	0x00                          meta: stream time, sequence, last emit
//	0x01 G                        group of an unwindowed aggregation
//	0x02 G start                  time window of G (start: storage.AppendInt64)
//	0x03 start G                  (earlier versions: an index of time windows by
//	                              start; removed on open)
//	0x04 G end start              session of G
//	0x05 end G start              index of sessions by end (empty value)
//
// A group's value is: varint max event time, then per aggregate call a
// uvarint length and the accumulator's state (agg.Acc.AppendState).
//
// Groups and time windows are kept decoded between rows in a cache
// (groupCache) and written to the store at Flush. The time windows are
// indexed by start in memory (windowIndex), rebuilt
// from the 0x02 rows when the operator opens: closing and expiring windows
// visits exactly the windows concerned instead of scanning the store.
//
// # Time
//
// The operator's stream time is the largest event time among the rows it
// has received, kept in its state: Kafka Streams' observed stream time of
// the aggregation processor. Task watermarks are not used to close windows
// because they also count records that never reach the operator (dropped
// by WHERE or for a NULL grouping key); using them would make lateness
// depend on how records were cut into batches. Windows are closed and
// emitted row by row, as Kafka Streams does, so results do not depend on
// batch sizes either.
//
// A time window [start, end) accepts a row while end > streamTime - grace;
// a session accepts a row while the merged session's end >= streamTime -
// grace. Later rows are dropped and counted in Metrics.LateRecords.
//
// # Emission
//
// EMIT CHANGES emits every group change: Insert for a new group,
// UpdateBefore + UpdateAfter for an existing one, a Delete for each session
// that a merge replaces. With EmitFinal a time window is emitted once, as
// an Insert, when stream time passes its end + grace; windows whose start
// is below the largest window start minus the retention expire unemitted,
// as they do from Kafka Streams' window store (the behaviour ksqlDB's
// suppress tests encode). Sessions are emitted when stream time passes
// their end + grace.
type aggregate struct {
	spec   AggregateSpec
	next   Operator
	tc     *TaskContext
	store  StateStore
	schema *arrow.Schema // output; set on the first batch
	inKeyT []arrow.DataType

	having expr.Evaluator
	ectx   expr.Ctx

	// meta, persisted under key 0x00.
	streamTime    int64
	seq           int64
	lastEmitClose int64 // EmitFinal: the close time of the last emission
	maxStart      int64 // time windows: the largest window start seen

	// windows indexes the time windows in the store (not sessions).
	windows windowIndex
	// groups caches decoded groups and windows (not sessions).
	groups groupCache
	encBuf []byte

	out    []outRow
	keyBuf []byte
	rows   [2]rowInput // the rows being applied, reused
	// held is an UpdateBefore that ended the last batch (row heldRow of
	// held), waiting for the UpdateAfter that starts the next.
	held    arrow.Record
	heldRow int
	starts  []int64 // windowStarts' result, reused
	mem     memory.Allocator
}

type outRow struct {
	key      []any
	start    int64
	end      int64
	results  []any
	ts       int64
	kind     ChangeKind
	hasOld   bool // an UpdateAfter whose UpdateBefore is the previous row
	retracts bool // a Delete that always passes HAVING (session merges)
}

var _ Operator = (*aggregate)(nil)

const (
	spMeta   = 0x00
	spGroup  = 0x01
	spWindow = 0x02
	// spLegacyWindowIdx: earlier versions' stored window index.
	spLegacyWindowIdx = 0x03
	spSession         = 0x04
	spSessionIdx      = 0x05
)

// NewAggregate returns the operator of spec in front of next.
func NewAggregate(spec AggregateSpec, next Operator) (Operator, error) {
	if spec.Name == "" {
		return nil, errors.New("aggregate: no state name")
	}
	if len(spec.KeyNames) != len(spec.KeyCols) {
		return nil, fmt.Errorf("aggregate: %d key columns but %d names", len(spec.KeyCols), len(spec.KeyNames))
	}
	if w := spec.Window; w != nil {
		switch {
		case w.Size <= 0:
			return nil, fmt.Errorf("aggregate: window size must be positive")
		case w.Kind == WindowHopping && (w.Advance <= 0 || w.Advance > w.Size):
			return nil, fmt.Errorf("aggregate: hopping window advance %dms must be in (0, size %dms]", w.Advance, w.Size)
		case w.Grace < 0:
			return nil, fmt.Errorf("aggregate: negative grace period")
		}
	} else if spec.EmitFinal {
		return nil, errors.New("aggregate: EMIT FINAL needs a window")
	}
	for _, a := range spec.Aggs {
		if a.Fn == nil {
			return nil, fmt.Errorf("aggregate %s: unresolved function", a.Name)
		}
	}
	a := &aggregate{spec: spec, next: next, mem: memory.DefaultAllocator,
		streamTime: NoStreamTime, lastEmitClose: NoStreamTime, maxStart: NoStreamTime}
	if spec.Having != nil {
		ev, err := expr.Compile(spec.Having)
		if err != nil {
			return nil, fmt.Errorf("aggregate HAVING %s: %w", spec.Having, err)
		}
		a.having = ev
	}
	return a, nil
}

func (a *aggregate) Open(tc *TaskContext) error {
	a.tc = tc
	if tc == nil || tc.OpenState == nil {
		return fmt.Errorf("aggregate %s: the task has no state", a.spec.Name)
	}
	st, err := tc.OpenState(a.spec.Name)
	if err != nil {
		return fmt.Errorf("aggregate %s: open state: %w", a.spec.Name, err)
	}
	a.store = st
	if err := a.loadMeta(); err != nil {
		return err
	}
	if w := a.spec.Window; w != nil && w.Kind != WindowSession {
		if err := a.loadWindows(); err != nil {
			return err
		}
	}
	a.ectx.OnRowError = func(_ int, err error) {
		a.tc.recordError(&a.tc.metrics().EvalErrors, fmt.Errorf("HAVING %s: %w", a.spec.Having, err))
	}
	return a.next.Open(tc)
}

func (a *aggregate) loadMeta() error {
	v, ok, err := a.store.Get([]byte{spMeta})
	if err != nil || !ok {
		return err
	}
	fields := []*int64{&a.streamTime, &a.seq, &a.lastEmitClose, &a.maxStart}
	for _, f := range fields {
		if *f, v, err = agg.ReadVarint(v); err != nil {
			return fmt.Errorf("aggregate %s: corrupt meta state: %w", a.spec.Name, err)
		}
	}
	return nil
}

func (a *aggregate) saveMeta() error {
	var b []byte
	for _, f := range []int64{a.streamTime, a.seq, a.lastEmitClose, a.maxStart} {
		b = agg.AppendVarint(b, f)
	}
	return a.store.Put([]byte{spMeta}, b)
}

// group is a decoded group (or window, or session) state.
type group struct {
	maxTs int64
	accs  []agg.Acc
}

func (a *aggregate) newGroup() *group {
	g := &group{maxTs: NoStreamTime, accs: make([]agg.Acc, len(a.spec.Aggs))}
	for i, c := range a.spec.Aggs {
		g.accs[i] = c.Fn.New()
	}
	return g
}

func (a *aggregate) decodeGroup(v []byte) (*group, error) {
	g := &group{accs: make([]agg.Acc, len(a.spec.Aggs))}
	var err error
	if g.maxTs, v, err = agg.ReadVarint(v); err != nil {
		return nil, err
	}
	for i, c := range a.spec.Aggs {
		var n uint64
		if n, v, err = agg.ReadUvarint(v); err != nil {
			return nil, err
		}
		if uint64(len(v)) < n {
			return nil, errors.New("truncated accumulator")
		}
		if g.accs[i], err = c.Fn.Decode(v[:n]); err != nil {
			return nil, err
		}
		v = v[n:]
	}
	return g, nil
}

// encodeGroup encodes g into a buffer reused by the next call.
func (a *aggregate) encodeGroup(g *group) []byte {
	b := agg.AppendVarint(a.encBuf[:0], g.maxTs)
	var tmp []byte
	for _, acc := range g.accs {
		tmp = acc.AppendState(tmp[:0])
		b = agg.AppendUvarint(b, uint64(len(tmp)))
		b = append(b, tmp...)
	}
	a.encBuf = b
	return b
}

// cachedGroup returns the group (or time window) of key through the group
// cache. A caller that changes it reports the change with a.groups.changed.
func (a *aggregate) cachedGroup(key []byte) (*group, bool, error) {
	if g, ok := a.groups.get(key); ok {
		return g, true, nil
	}
	g, ok, err := a.getGroup(key)
	if ok {
		a.groups.add(key, g)
	}
	return g, ok, err
}

// writeGroups writes the changed groups of the cache to the store.
func (a *aggregate) writeGroups() error {
	return a.groups.write(func(k string, g *group) error {
		return a.store.Put([]byte(k), a.encodeGroup(g))
	})
}

// getGroup reads the group of key from the store.
func (a *aggregate) getGroup(key []byte) (*group, bool, error) {
	v, ok, err := a.store.Get(key)
	if err != nil || !ok {
		return nil, false, err
	}
	g, err := a.decodeGroup(v)
	if err != nil {
		return nil, false, fmt.Errorf("aggregate %s: corrupt group state: %w", a.spec.Name, err)
	}
	return g, true, nil
}

func (g *group) results() []any {
	out := make([]any, len(g.accs))
	for i, acc := range g.accs {
		out[i] = acc.Result()
	}
	return out
}

// rowInput is one input row, decoded. The operator reuses two of them
// (rows) for every row; only key is new for each row whose changes are
// emitted, as the emitted rows keep it.
type rowInput struct {
	key  []any
	gkey []byte // encoded group key; nil when a key value is NULL
	gbuf []byte // gkey's buffer
	args [][]any
	ts   int64
}

// readRow decodes row i of rec into r.
func (a *aggregate) readRow(rec arrow.Record, i int, r *rowInput) {
	if r.key == nil || !a.spec.EmitFinal {
		// EMIT FINAL emits key values decoded from the state.
		r.key = make([]any, len(a.spec.KeyCols))
	}
	if r.gbuf == nil {
		r.gbuf = make([]byte, 0, 16) // non-nil: no key columns is a key
	}
	gk := r.gbuf[:0]
	null := false
	for k, c := range a.spec.KeyCols {
		v := expr.ValueAt(rec.Column(c), i)
		null = null || v == nil
		r.key[k] = v
		gk = agg.AppendValue(gk, v)
	}
	r.gbuf, r.gkey = gk, gk
	if null {
		r.gkey = nil
	}
	if r.args == nil {
		r.args = make([][]any, len(a.spec.Aggs))
		for j, c := range a.spec.Aggs {
			r.args[j] = make([]any, len(c.Args))
		}
	}
	for j, c := range a.spec.Aggs {
		for k, col := range c.Args {
			r.args[j][k] = expr.ValueAt(rec.Column(col), i)
		}
	}
	r.ts = timeAt(rec.Column(a.spec.TimeCol), i)
}

func (a *aggregate) Push(ctx context.Context, b Batch) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	if a.schema == nil {
		s, err := a.spec.Schema(b.Rec.Schema())
		if err != nil {
			return err
		}
		a.schema = s
	}
	kinds := b.Kinds
	if c := a.spec.ChangeCol; c >= 0 {
		col, ok := b.Rec.Column(c).(*array.Int32)
		if !ok {
			return fmt.Errorf("aggregate %s: change column %d is not INT", a.spec.Name, c)
		}
		kinds = make([]ChangeKind, n)
		for i := range kinds {
			kinds[i] = ChangeKind(col.Value(i))
		}
	}
	kind := func(i int) ChangeKind {
		if kinds == nil {
			return Insert
		}
		return kinds[i]
	}
	a.out = a.out[:0]
	i := 0
	if a.held != nil {
		// The UpdateBefore that ended the previous batch.
		row := &a.rows[0]
		a.readRow(a.held, a.heldRow, row)
		var next *rowInput
		if kind(0) == UpdateAfter {
			next = &a.rows[1]
			a.readRow(b.Rec, 0, next)
			i++
		}
		err := a.applyUpdate(row, next)
		a.releaseHeld()
		if err != nil {
			return err
		}
	}
	for ; i < n; i++ {
		k := kind(i)
		if k == UpdateBefore && i+1 == n && a.spec.ChangeCol >= 0 {
			// Changes read from a change column are cut into batches
			// wherever a batch fills up, which may separate an
			// UpdateBefore from its UpdateAfter: keep it for the next
			// batch, so that results do not depend on batch sizes.
			b.Rec.Retain()
			a.held, a.heldRow = b.Rec, i
			break
		}
		row := &a.rows[0]
		a.readRow(b.Rec, i, row)
		var err error
		switch k {
		case Insert, UpdateAfter:
			err = a.apply(row, nil)
		case Delete:
			err = a.apply(nil, row)
		case UpdateBefore:
			var next *rowInput
			if i+1 < n && kind(i+1) == UpdateAfter {
				next = &a.rows[1]
				a.readRow(b.Rec, i+1, next)
				i++
			}
			err = a.applyUpdate(row, next)
		}
		if err != nil {
			return err
		}
	}
	return a.finishPush(ctx)
}

// applyUpdate applies an UpdateBefore row and the UpdateAfter next that
// follows it (nil when none does).
func (a *aggregate) applyUpdate(row, next *rowInput) error {
	switch {
	case next == nil:
		return a.apply(nil, row)
	case row.gkey != nil && next.gkey != nil && bytes.Equal(row.gkey, next.gkey):
		// Same group: retract and add, then emit once (Kafka Streams
		// forwards such a change as one record).
		return a.apply(next, row)
	}
	if err := a.apply(nil, row); err != nil {
		return err
	}
	return a.apply(next, nil)
}

// releaseHeld drops the held UpdateBefore.
func (a *aggregate) releaseHeld() {
	if a.held != nil {
		a.held.Release()
		a.held = nil
	}
}

// finishPush saves the meta, bounds the group cache and emits the changes
// of the rows applied.
func (a *aggregate) finishPush(ctx context.Context) error {
	if err := a.saveMeta(); err != nil {
		return err
	}
	if len(a.groups.groups) > maxCachedGroups {
		if err := a.writeGroups(); err != nil {
			return err
		}
	}
	return a.emit(ctx)
}

// apply adds row add and retracts row undo (either may be nil) from their
// group; when both are set they have the same group key and the group
// emits once. A row whose grouping key has a NULL is excluded, as ksqlDB
// does.
func (a *aggregate) apply(add, undo *rowInput) error {
	if add != nil && add.gkey == nil {
		a.tc.metrics().DroppedNulls.Add(1)
		add = nil
	}
	if undo != nil && undo.gkey == nil {
		undo = nil
	}
	if add == nil && undo == nil {
		return nil
	}
	if a.spec.Window != nil {
		if undo != nil || add == nil {
			return fmt.Errorf("aggregate %s: a windowed aggregation cannot retract rows", a.spec.Name)
		}
		if a.spec.Window.Kind == WindowSession {
			return a.applySession(*add)
		}
		return a.applyWindows(*add)
	}
	ref := add
	if ref == nil {
		ref = undo
	}
	key := append(append(a.keyBuf[:0], spGroup), ref.gkey...)
	a.keyBuf = key
	g, existed, err := a.cachedGroup(key)
	if err != nil {
		return err
	}
	if !existed {
		if add == nil {
			return nil // nothing to retract from
		}
		g = a.newGroup()
	}
	var old []any
	oldTs := g.maxTs
	if existed {
		old = g.results()
	}
	ts := ref.ts
	if undo != nil {
		for j, c := range a.spec.Aggs {
			if err := g.accs[j].Undo(undo.args[j]); err != nil {
				a.rowError(c, err)
			}
		}
		ts = max(ts, undo.ts)
	}
	if add != nil {
		a.seq++
		for j, c := range a.spec.Aggs {
			if err := g.accs[j].Add(add.args[j], a.seq); err != nil {
				a.rowError(c, err)
			}
		}
	}
	g.maxTs = max(g.maxTs, ts)
	a.groups.changed(key, g)
	a.changed(ref.key, 0, 0, old, oldTs, existed, g)
	return nil
}

func (a *aggregate) rowError(c AggCall, err error) {
	a.tc.recordError(&a.tc.metrics().EvalErrors, fmt.Errorf("aggregate %s: %w (the row's update is skipped)", c.Name, err))
}

// changed records the emission of a group's new row.
// old and oldTs are the group's row before the change, when existed.
func (a *aggregate) changed(key []any, start, end int64, old []any, oldTs int64, existed bool, g *group) {
	if a.spec.EmitFinal {
		return
	}
	if existed {
		a.out = append(a.out, outRow{key: key, start: start, end: end, results: old, ts: oldTs, kind: UpdateBefore})
	}
	a.out = append(a.out, outRow{key: key, start: start, end: end, results: g.results(), ts: g.maxTs,
		kind: Insert, hasOld: existed})
}

// observe moves stream time with a row's event time.
func (a *aggregate) observe(ts int64) { a.streamTime = max(a.streamTime, ts) }

// ---- time windows ----

// windowStarts appends the starts of the windows containing t to out,
// ascending.
func windowStarts(w *WindowSpec, t int64, out []int64) []int64 {
	if w.Kind == WindowTumbling {
		return append(out, t-t%w.Size)
	}
	first := max(0, t-w.Size+w.Advance) / w.Advance * w.Advance
	for s := first; s <= t; s += w.Advance {
		out = append(out, s)
	}
	return out
}

func (a *aggregate) retention() int64 {
	w := a.spec.Window
	return max(w.Retention, w.Size+w.Grace)
}

func (a *aggregate) applyWindows(row rowInput) error {
	w := a.spec.Window
	a.observe(row.ts)
	closeTime := a.streamTime - w.Grace
	late := false
	seqDone := false
	a.starts = windowStarts(w, row.ts, a.starts[:0])
	for _, start := range a.starts {
		end := start + w.Size
		if end <= closeTime {
			late = true
			continue
		}
		key := a.windowKey(row.gkey, start)
		g, existed, err := a.cachedGroup(key)
		if err != nil {
			return err
		}
		var old []any
		if !existed {
			g = a.newGroup()
			a.windows.add(start, row.gkey)
		} else if !a.spec.EmitFinal {
			old = g.results()
		}
		oldTs := g.maxTs
		if !seqDone {
			a.seq++
			seqDone = true
		}
		for j, c := range a.spec.Aggs {
			if err := g.accs[j].Add(row.args[j], a.seq); err != nil {
				a.rowError(c, err)
			}
		}
		g.maxTs = max(g.maxTs, row.ts)
		a.groups.changed(key, g)
		a.maxStart = max(a.maxStart, start)
		a.changed(row.key, start, end, old, oldTs, existed, g)
	}
	if late {
		a.tc.metrics().LateRecords.Add(1)
	}
	if a.spec.EmitFinal {
		if err := a.emitClosedWindows(closeTime); err != nil {
			return err
		}
	}
	return a.expireWindows()
}

// windowKey returns the state key of gkey's window at start, in a buffer
// reused by the next call.
func (a *aggregate) windowKey(gkey []byte, start int64) []byte {
	k := append(append(a.keyBuf[:0], spWindow), gkey...)
	a.keyBuf = storage.AppendInt64(k, start)
	return a.keyBuf
}

// decodeGroupKey reads the key values of an encoded group key and returns
// the rest of b.
func (a *aggregate) decodeGroupKey(b []byte) ([]any, []byte, error) {
	vals := make([]any, len(a.spec.KeyCols))
	var err error
	for i := range vals {
		if vals[i], b, err = agg.ReadValue(b); err != nil {
			return nil, nil, fmt.Errorf("aggregate %s: corrupt group key: %w", a.spec.Name, err)
		}
	}
	return vals, b, nil
}

// loadWindows rebuilds the window index from the store's windows, and
// removes the stored index that earlier versions kept (space 0x03).
func (a *aggregate) loadWindows() error {
	var derr error
	err := a.store.Scan([]byte{spWindow}, []byte{spWindow + 1}, func(k, _ []byte) bool {
		if len(k) < 1+8 {
			derr = fmt.Errorf("aggregate %s: short window key", a.spec.Name)
			return false
		}
		gkey := k[1 : len(k)-8]
		start, _, err := storage.DecodeInt64(k[len(k)-8:])
		if err != nil {
			derr = err
			return false
		}
		a.windows.add(start, gkey)
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	return deleteRange(a.store, []byte{spLegacyWindowIdx}, []byte{spLegacyWindowIdx + 1})
}

// emitClosedWindows emits, once, every window that closed since the last
// emission (see the type's doc for the retention cut-off).
func (a *aggregate) emitClosedWindows(closeTime int64) error {
	w := a.spec.Window
	if a.lastEmitClose != NoStreamTime && closeTime <= a.lastEmitClose {
		return nil
	}
	upper := closeTime - w.Size // windows starting at or before upper have closed
	if upper < 0 {
		return nil
	}
	lower := a.maxStart - a.retention()
	if a.lastEmitClose != NoStreamTime {
		lower = max(lower, a.lastEmitClose-w.Size+1)
	}
	a.lastEmitClose = closeTime
	if lower > upper {
		return nil
	}
	return a.windows.visit(max(lower, 0), upper, func(start int64, gkey string) error {
		g, ok, err := a.cachedGroup(a.windowKey([]byte(gkey), start))
		if err != nil || !ok {
			return err
		}
		key, _, err := a.decodeGroupKey([]byte(gkey))
		if err != nil {
			return err
		}
		a.out = append(a.out, outRow{key: key, start: start, end: start + w.Size, results: g.results(), ts: g.maxTs, kind: Insert})
		return nil
	})
}

// expireWindows drops the state of windows that can no longer change or be
// emitted: start below the largest start minus the retention.
func (a *aggregate) expireWindows() error {
	cut := a.maxStart - a.retention()
	if cut <= 0 {
		return nil
	}
	return a.windows.removeBefore(cut, func(start int64, gkey string) error {
		key := a.windowKey([]byte(gkey), start)
		a.groups.remove(key)
		return a.store.Delete(key)
	})
}

// ---- sessions ----

func (a *aggregate) sessionKey(gkey []byte, end, start int64) []byte {
	k := append([]byte{spSession}, gkey...)
	return storage.AppendInt64(storage.AppendInt64(k, end), start)
}

func (a *aggregate) sessionIndexKey(end int64, gkey []byte, start int64) []byte {
	k := storage.AppendInt64([]byte{spSessionIdx}, end)
	return storage.AppendInt64(append(k, gkey...), start)
}

type session struct {
	start, end int64
	g          *group
}

func (a *aggregate) applySession(row rowInput) error {
	w := a.spec.Window
	a.observe(row.ts)
	closeTime := a.streamTime - w.Grace
	t := row.ts
	// Sessions of this key that the row touches: end >= t - gap and
	// start <= t + gap. Keys are ordered by end, so scan from t - gap.
	prefix := append([]byte{spSession}, row.gkey...)
	lo := storage.AppendInt64(append([]byte(nil), prefix...), max(t-w.Size, 0))
	var found []session
	var derr error
	err := a.store.Scan(lo, nil, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false // past this group's sessions
		}
		end, rest, err := storage.DecodeInt64(k[len(prefix):])
		if err != nil {
			derr = err
			return false
		}
		start, _, err := storage.DecodeInt64(rest)
		if err != nil {
			derr = err
			return false
		}
		if start > t+w.Size {
			return true
		}
		g, err := a.decodeGroup(v)
		if err != nil {
			derr = err
			return false
		}
		found = append(found, session{start: start, end: end, g: g})
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	merged := session{start: t, end: t, g: a.newGroup()}
	for _, s := range found {
		merged.start, merged.end = min(merged.start, s.start), max(merged.end, s.end)
	}
	if merged.end < closeTime {
		a.tc.metrics().LateRecords.Add(1)
		return nil
	}
	for _, s := range found {
		for j := range merged.g.accs {
			if err := merged.g.accs[j].Merge(s.g.accs[j]); err != nil {
				a.rowError(a.spec.Aggs[j], err)
			}
		}
		merged.g.maxTs = max(merged.g.maxTs, s.g.maxTs)
	}
	a.seq++
	for j, c := range a.spec.Aggs {
		if err := merged.g.accs[j].Add(row.args[j], a.seq); err != nil {
			a.rowError(c, err)
		}
	}
	merged.g.maxTs = max(merged.g.maxTs, t)

	unchanged := len(found) == 1 && found[0].start == merged.start && found[0].end == merged.end
	for _, s := range found {
		if unchanged {
			break
		}
		if err := a.store.Delete(a.sessionKey(row.gkey, s.end, s.start)); err != nil {
			return err
		}
		if err := a.store.Delete(a.sessionIndexKey(s.end, row.gkey, s.start)); err != nil {
			return err
		}
		if !a.spec.EmitFinal {
			a.out = append(a.out, outRow{key: row.key, start: s.start, end: s.end, results: s.g.results(),
				ts: s.g.maxTs, kind: Delete, retracts: true})
		}
	}
	if err := a.store.Put(a.sessionKey(row.gkey, merged.end, merged.start), a.encodeGroup(merged.g)); err != nil {
		return err
	}
	if !unchanged {
		if err := a.store.Put(a.sessionIndexKey(merged.end, row.gkey, merged.start), nil); err != nil {
			return err
		}
	}
	var old []any
	oldTs := NoStreamTime
	if unchanged {
		old, oldTs = found[0].g.results(), found[0].g.maxTs
	}
	a.changed(row.key, merged.start, merged.end, old, oldTs, unchanged, merged.g)
	return a.closeSessions(closeTime)
}

// closeSessions emits (EmitFinal) and expires closed sessions. With
// EmitFinal a session is emitted and dropped once end < closeTime. With
// changes emitted it is only dropped once end < closeTime - gap: until then
// a row that is not late (event time >= closeTime) could still merge with
// it.
func (a *aggregate) closeSessions(closeTime int64) error {
	w := a.spec.Window
	limit := closeTime // EmitFinal: emit and drop sessions ending before closeTime
	if !a.spec.EmitFinal {
		limit = closeTime - w.Size
	}
	if limit <= 0 {
		return nil
	}
	lo := []byte{spSessionIdx}
	hi := storage.AppendInt64([]byte{spSessionIdx}, limit)
	type ref struct {
		end, start int64
		gkey       []byte
	}
	var refs []ref
	var derr error
	err := a.store.Scan(lo, hi, func(k, _ []byte) bool {
		end, rest, err := storage.DecodeInt64(k[1:])
		if err != nil {
			derr = err
			return false
		}
		if len(rest) < 8 {
			derr = errors.New("short session index key")
			return false
		}
		start, _, err := storage.DecodeInt64(rest[len(rest)-8:])
		if err != nil {
			derr = err
			return false
		}
		refs = append(refs, ref{end: end, start: start, gkey: append([]byte(nil), rest[:len(rest)-8]...)})
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	for _, r := range refs {
		key := a.sessionKey(r.gkey, r.end, r.start)
		if a.spec.EmitFinal {
			g, ok, err := a.getGroup(key)
			if err != nil {
				return err
			}
			if ok {
				kv, _, err := a.decodeGroupKey(r.gkey)
				if err != nil {
					return err
				}
				a.out = append(a.out, outRow{key: kv, start: r.start, end: r.end, results: g.results(), ts: g.maxTs, kind: Insert})
			}
		}
		if err := a.store.Delete(key); err != nil {
			return err
		}
		if err := a.store.Delete(a.sessionIndexKey(r.end, r.gkey, r.start)); err != nil {
			return err
		}
	}
	return nil
}

// ---- output ----

// emit builds the batch of the collected changes, applies HAVING and
// pushes it.
func (a *aggregate) emit(ctx context.Context) error {
	if len(a.out) == 0 {
		return nil
	}
	defer func() { a.out = a.out[:0] }()
	rec, err := a.buildRecord()
	if err != nil {
		return err
	}
	defer rec.Release()
	n := len(a.out)
	pass := make([]bool, n)
	for i := range pass {
		pass[i] = true
	}
	if a.having != nil {
		res, err := a.having.Eval(&a.ectx, rec)
		if err != nil {
			return fmt.Errorf("aggregate HAVING %s: %w", a.spec.Having, err)
		}
		mask, _ := res.(*array.Boolean)
		for i := range pass {
			pass[i] = mask != nil && mask.IsValid(i) && mask.Value(i)
		}
		res.Release()
	}
	sel := make([]int32, 0, n)
	kinds := make([]ChangeKind, 0, n)
	for i := 0; i < n; i++ {
		r := a.out[i]
		switch {
		case r.kind == UpdateBefore:
			// Decided together with its UpdateAfter, the next row.
			continue
		case r.kind == Delete:
			if r.retracts || pass[i] {
				sel, kinds = append(sel, int32(i)), append(kinds, Delete)
			}
		case !pass[i]:
			// A group that stops passing HAVING is deleted; one that never
			// passed emits nothing (Kafka Streams' table filter).
			if r.hasOld && pass[i-1] {
				sel, kinds = append(sel, int32(i)), append(kinds, Delete)
			}
		case r.hasOld && pass[i-1]:
			sel, kinds = append(sel, int32(i-1), int32(i)), append(kinds, UpdateBefore, UpdateAfter)
		default:
			sel, kinds = append(sel, int32(i)), append(kinds, Insert)
		}
	}
	if len(sel) == 0 {
		return nil
	}
	if len(sel) == n {
		return a.next.Push(ctx, Batch{Rec: rec, Kinds: kinds})
	}
	taken, err := takeRecord(a.mem, rec, sel)
	if err != nil {
		return fmt.Errorf("aggregate %s: %w", a.spec.Name, err)
	}
	defer taken.Release()
	return a.next.Push(ctx, Batch{Rec: taken, Kinds: kinds})
}

func (a *aggregate) buildRecord() (arrow.Record, error) {
	fields := a.schema.Fields()
	bs := make([]array.Builder, len(fields))
	for i, f := range fields {
		bs[i] = expr.NewBuilder(f.Type)
	}
	defer func() {
		for _, b := range bs {
			b.Release()
		}
	}()
	for _, r := range a.out {
		c := 0
		for _, v := range r.key {
			if err := expr.AppendValue(bs[c], v); err != nil {
				return nil, fmt.Errorf("aggregate %s: key: %w", a.spec.Name, err)
			}
			c++
		}
		if a.spec.Window != nil {
			bs[c].(*array.TimestampBuilder).Append(arrow.Timestamp(r.start))
			bs[c+1].(*array.TimestampBuilder).Append(arrow.Timestamp(r.end))
			c += 2
		}
		for j, v := range r.results {
			if err := expr.AppendValue(bs[c], v); err != nil {
				return nil, fmt.Errorf("aggregate %s: %s: %w", a.spec.Name, a.spec.Aggs[j].Name, err)
			}
			c++
		}
		bs[c].(*array.TimestampBuilder).Append(arrow.Timestamp(r.ts))
	}
	cols := make([]arrow.Array, len(bs))
	for i, b := range bs {
		cols[i] = b.NewArray()
	}
	schema := a.schema
	// Nested types built from Go values may differ from the planned ones in
	// what SQL does not express (nullability flags); adopt the built ones.
	var fixed []arrow.Field
	for i, c := range cols {
		if !arrow.TypeEqual(c.DataType(), fields[i].Type) {
			if fixed == nil {
				fixed = append([]arrow.Field(nil), fields...)
			}
			fixed[i].Type = c.DataType()
		}
	}
	if fixed != nil {
		schema = arrow.NewSchema(fixed, nil)
	}
	rec := array.NewRecord(schema, cols, int64(len(a.out)))
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

func (a *aggregate) Watermark(ctx context.Context, t int64) error { return a.next.Watermark(ctx, t) }

// Flush applies a held UpdateBefore alone (its UpdateAfter is in a later
// cycle, if any), writes the changed groups to the store, then flushes
// next.
func (a *aggregate) Flush(ctx context.Context) error {
	if a.held != nil {
		a.out = a.out[:0]
		row := &a.rows[0]
		a.readRow(a.held, a.heldRow, row)
		err := a.applyUpdate(row, nil)
		a.releaseHeld()
		if err == nil {
			err = a.finishPush(ctx)
		}
		if err != nil {
			return err
		}
	}
	if a.store != nil {
		if err := a.writeGroups(); err != nil {
			return err
		}
	}
	return a.next.Flush(ctx)
}

func (a *aggregate) Close() error {
	a.releaseHeld()
	return a.next.Close()
}
