package exec

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec/codec"
)

// sink encodes each row into a Kafka record and hands it to emit.
//
// Allocation: records of one batch are carved from one []kgo.Record slab and
// their key, value and header bytes from one byte arena. The records are
// handed over, so a slab or arena is reused only once its owner says that
// every record emitted so far is done with (RecordRecycler, called by the
// processing cycle after the producer acknowledged them); until then each
// batch takes a recycled one or allocates. The arena is sized from the
// previous batch, so a steady stream costs a few allocations per batch and
// none per row, and none at all once the cycle recycles.
type sink struct {
	spec           SinkSpec
	keyEnc, valEnc codec.Encoder
	emit           func(*kgo.Record)
	tc             *TaskContext

	keyCols, valCols []arrow.Array // reused per batch
	arena            []byte
	arenaHint        int               // bytes the last batch used
	headerKeys       map[string]string // interned header keys

	// Slabs and arenas behind records emitted since the last
	// RecycleRecords, and those free for reuse. slab is the part of the
	// last used slab handed out so far: a batch takes its records from
	// the rest of it while they fit, as the arena does with its bytes, so
	// that many small batches (a join task interleaving its inputs pushes
	// a few rows at a time) do not take a slab and an arena each.
	slab                   []kgo.Record
	usedSlabs, freeSlabs   [][]kgo.Record
	usedArenas, freeArenas [][]byte
}

var (
	_ Operator       = (*sink)(nil)
	_ RecordRecycler = (*sink)(nil)
)

// RecordRecycler is implemented by the operator of NewSink.
type RecordRecycler interface {
	// RecycleRecords tells the sink whether the records it emitted since
	// the last call are done with (reuse: nobody holds them or their byte
	// slices any more, e.g. the producer acknowledged them), so that their
	// memory backs later records, or may still be held (the sink forgets
	// them). Call it from the task's goroutine or while the task is idle.
	RecycleRecords(reuse bool)
}

// maxFreeBuffers bounds the slabs and the arenas a sink keeps for reuse:
// a processing cycle of 16384 records in batches of 1024 uses 16 of each.
const maxFreeBuffers = 32

func (s *sink) RecycleRecords(reuse bool) {
	if reuse {
		for _, b := range s.usedSlabs {
			if len(s.freeSlabs) < maxFreeBuffers {
				clear(b) // drop references to keys, values and headers
				s.freeSlabs = append(s.freeSlabs, b)
			}
		}
		for _, a := range s.usedArenas {
			if len(s.freeArenas) < maxFreeBuffers {
				s.freeArenas = append(s.freeArenas, a[:0])
			}
		}
	}
	s.slab, s.arena = nil, nil
	clear(s.usedSlabs)
	clear(s.usedArenas)
	s.usedSlabs, s.usedArenas = s.usedSlabs[:0], s.usedArenas[:0]
}

// takeSlab returns a record slab of length n.
func (s *sink) takeSlab(n int) []kgo.Record {
	if used := len(s.slab); cap(s.slab)-used >= n {
		s.slab = s.slab[:used+n]
		return s.slab[used : used+n : used+n]
	}
	var slab []kgo.Record
	for i := len(s.freeSlabs) - 1; i >= 0; i-- {
		if cap(s.freeSlabs[i]) >= n {
			slab = s.freeSlabs[i][:n]
			s.freeSlabs = append(s.freeSlabs[:i], s.freeSlabs[i+1:]...)
			break
		}
	}
	if slab == nil {
		slab = make([]kgo.Record, n, max(n, 1024))
	}
	s.usedSlabs = append(s.usedSlabs, slab)
	s.slab = slab
	return slab[:n:n]
}

// newArena makes s.arena an empty arena of at least size bytes.
func (s *sink) newArena(size int) {
	s.arena = nil
	for i := len(s.freeArenas) - 1; i >= 0; i-- {
		if cap(s.freeArenas[i]) >= size {
			s.arena = s.freeArenas[i]
			s.freeArenas = append(s.freeArenas[:i], s.freeArenas[i+1:]...)
			break
		}
	}
	if s.arena == nil {
		s.arena = make([]byte, 0, size)
	}
	s.usedArenas = append(s.usedArenas, s.arena)
}

// maxInternedKeys bounds the header-key intern table, so that a topic with
// unbounded distinct header keys cannot grow it without limit.
const maxInternedKeys = 1024

// NewSink returns the operator that writes a query's result to Kafka.
//
// emit receives each record in row order and owns it (and its byte slices)
// from then on; Topic, Key, Value, Timestamp and Headers are set, Partition
// is left to the producer's partitioner. On a table sink (spec.Table) a
// Delete row becomes a tombstone (nil Value) and an UpdateBefore row is not
// written, because the UpdateAfter that follows it carries the new value. A
// stream sink writes every row as a record; a Delete row there is a null row
// (SourceSpec.NullRows) and is written with a null value, as ksqlDB does.
//
// Header columns are written in HeaderCols order: a HEADERS column
// (ARRAY<STRUCT<KEY, VALUE>>) writes all its entries, a BYTES column writes
// one header named after the column, unless it is NULL.
//
// A row that cannot be encoded is skipped, counted in Metrics.EvalErrors and
// reported through TaskContext.OnRecordError.
func NewSink(spec SinkSpec, emit func(*kgo.Record)) (Operator, error) {
	if emit == nil {
		return nil, fmt.Errorf("sink %q: no emit function", spec.Topic)
	}
	s := &sink{
		spec:       spec,
		emit:       emit,
		keyCols:    make([]arrow.Array, len(spec.KeyCols)),
		valCols:    make([]arrow.Array, len(spec.ValueCols)),
		arenaHint:  4096,
		headerKeys: make(map[string]string),
	}
	wantKey := len(spec.Key.Fields)
	if spec.Key.Window != codec.NotWindowed {
		wantKey += 2
	}
	if len(spec.KeyCols) != wantKey {
		return nil, fmt.Errorf("sink %q: key format has %d columns but %d input columns feed it", spec.Topic, wantKey, len(spec.KeyCols))
	}
	if len(spec.ValueCols) != len(spec.Value.Fields) {
		return nil, fmt.Errorf("sink %q: value format has %d columns but %d input columns feed it", spec.Topic, len(spec.Value.Fields), len(spec.ValueCols))
	}
	var err error
	if wantKey > 0 {
		if s.keyEnc, err = codec.NewEncoder(spec.Key); err != nil {
			return nil, fmt.Errorf("sink %q: key format: %w", spec.Topic, err)
		}
	}
	if s.valEnc, err = codec.NewEncoder(spec.Value); err != nil {
		return nil, fmt.Errorf("sink %q: value format: %w", spec.Topic, err)
	}
	return s, nil
}

func (s *sink) Open(tc *TaskContext) error {
	s.tc = tc
	return nil
}

func (s *sink) Push(_ context.Context, b Batch) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	rec := b.Rec
	if err := s.checkColumns(rec); err != nil {
		return err
	}
	for i, c := range s.spec.KeyCols {
		s.keyCols[i] = rec.Column(c)
	}
	for i, c := range s.spec.ValueCols {
		s.valCols[i] = rec.Column(c)
	}
	defer clear(s.keyCols)
	defer clear(s.valCols)
	times := rec.Column(s.spec.TimeCol)

	out := n
	if s.spec.Table && b.Kinds != nil {
		for _, k := range b.Kinds {
			if k == UpdateBefore {
				out--
			}
		}
	}
	slab := s.takeSlab(out)
	var headers []kgo.RecordHeader
	if len(s.spec.HeaderCols) > 0 {
		headers = make([]kgo.RecordHeader, 0, s.countHeaders(rec))
	}
	if s.arena == nil || cap(s.arena)-len(s.arena) < s.arenaHint/4 {
		s.newArena(s.arenaHint)
	}
	arenaStart := len(s.arena)
	m := s.tc.metrics()
	written := 0
	for row := 0; row < n; row++ {
		kind := b.Kind(row)
		if s.spec.Table && kind == UpdateBefore {
			continue
		}
		ts := timeAt(times, row)
		if ts < 0 {
			// A sink TIMESTAMP column can compute a negative time; Kafka
			// cannot carry it, and ksqlDB's timestamp extractor skips
			// such rows.
			s.tc.recordError(&m.EvalErrors, fmt.Errorf("sink %s: invalid timestamp %d: row skipped", s.spec.Topic, ts))
			continue
		}
		r := &slab[written]
		*r = kgo.Record{Topic: s.spec.Topic} // the slot may hold a skipped row
		var err error
		if s.keyEnc != nil && !(s.spec.NullKeyIfAllNull && allNull(s.keyCols, row)) {
			if r.Key, err = s.encode(s.keyEnc, s.keyCols, row); err != nil {
				s.tc.recordError(&m.EvalErrors, fmt.Errorf("sink %s: failed to serialize key: %w: row skipped", s.spec.Topic, err))
				continue
			}
		}
		if kind != Delete {
			if r.Value, err = s.encode(s.valEnc, s.valCols, row); err != nil {
				s.tc.recordError(&m.EvalErrors, fmt.Errorf("sink %s: failed to serialize value: %w: row skipped", s.spec.Topic, err))
				continue
			}
		}
		r.Timestamp = time.UnixMilli(ts)
		if len(s.spec.HeaderCols) > 0 {
			start := len(headers)
			headers = s.appendHeaders(headers, rec, row)
			if len(headers) > start {
				r.Headers = headers[start:len(headers):len(headers)]
			}
		}
		written++
		s.emit(r)
	}
	m.RecordsOut.Add(int64(written))
	// The bytes below len(s.arena) are owned by the emitted records now;
	// the next batch appends after them.
	s.arenaHint = max(s.arenaHint, len(s.arena)-arenaStart)
	return nil
}

func (s *sink) checkColumns(rec arrow.Record) error {
	nc := int(rec.NumCols())
	check := func(what string, c int) error {
		if c < 0 || c >= nc {
			return fmt.Errorf("sink %s: %s column %d is out of range (batch has %d columns)", s.spec.Topic, what, c, nc)
		}
		return nil
	}
	for _, c := range s.spec.KeyCols {
		if err := check("key", c); err != nil {
			return err
		}
	}
	for _, c := range s.spec.ValueCols {
		if err := check("value", c); err != nil {
			return err
		}
	}
	for _, c := range s.spec.HeaderCols {
		if err := check("header", c); err != nil {
			return err
		}
	}
	return check("time", s.spec.TimeCol)
}

// encode appends one encoded key or value to the arena and returns it
// capped, so that an append by the record's owner cannot overwrite the next
// record's bytes. A nil result is a NULL (a null key or a tombstone).
func (s *sink) encode(enc codec.Encoder, cols []arrow.Array, row int) ([]byte, error) {
	// Encode appends to dst, but reports NULL as a nil slice, which an
	// append to the whole arena could not express; so hand it the arena's
	// free tail (never nil: the arena is allocated non-nil) and adopt what
	// it wrote.
	free := s.arena[len(s.arena):]
	b, err := enc.Encode(free, cols, row)
	if err != nil || b == nil {
		return nil, err
	}
	if cap(free) > 0 && cap(b) == cap(free) && unsafe.SliceData(b) == unsafe.SliceData(free) {
		s.arena = s.arena[:len(s.arena)+len(b)]
		return b[:len(b):len(b)], nil
	}
	// The encoder outgrew the arena and allocated: keep its slice and
	// continue in a bigger arena.
	s.arenaHint = max(2*s.arenaHint, 4*len(b))
	s.newArena(s.arenaHint)
	return b[:len(b):len(b)], nil
}

func allNull(cols []arrow.Array, row int) bool {
	for _, c := range cols {
		if c.IsValid(row) {
			return false
		}
	}
	return true
}

func timeAt(a arrow.Array, row int) int64 {
	if a.IsNull(row) {
		return 0
	}
	switch a := a.(type) {
	case *array.Timestamp:
		return int64(a.Value(row))
	case *array.Int64:
		return a.Value(row)
	}
	return 0
}

func (s *sink) countHeaders(rec arrow.Record) int {
	n := 0
	for _, c := range s.spec.HeaderCols {
		switch a := rec.Column(c).(type) {
		case *array.List:
			n += a.ListValues().Len()
		default:
			n += a.Len()
		}
	}
	return n
}

func (s *sink) appendHeaders(hs []kgo.RecordHeader, rec arrow.Record, row int) []kgo.RecordHeader {
	for _, c := range s.spec.HeaderCols {
		switch a := rec.Column(c).(type) {
		case *array.List:
			if a.IsNull(row) {
				continue
			}
			st, ok := a.ListValues().(*array.Struct)
			if !ok || st.NumField() < 2 {
				continue
			}
			keys, _ := st.Field(0).(*array.String)
			vals, _ := st.Field(1).(*array.Binary)
			if keys == nil || vals == nil {
				continue
			}
			start, end := a.ValueOffsets(row)
			for j := int(start); j < int(end); j++ {
				if st.IsNull(j) || keys.IsNull(j) {
					continue
				}
				h := kgo.RecordHeader{Key: s.intern(keys.Value(j))}
				if vals.IsValid(j) {
					h.Value = s.copyBytes(vals.Value(j))
				}
				hs = append(hs, h)
			}
		case *array.Binary:
			if a.IsNull(row) {
				continue
			}
			hs = append(hs, kgo.RecordHeader{Key: s.intern(rec.ColumnName(c)), Value: s.copyBytes(a.Value(row))})
		}
	}
	return hs
}

// intern returns a string equal to k that does not alias Arrow memory (the
// batch's buffers are released after Push, while the record lives on).
func (s *sink) intern(k string) string {
	if v, ok := s.headerKeys[k]; ok {
		return v
	}
	v := strings.Clone(k)
	if len(s.headerKeys) < maxInternedKeys {
		s.headerKeys[v] = v
	}
	return v
}

func (s *sink) copyBytes(b []byte) []byte {
	if cap(s.arena)-len(s.arena) < len(b) {
		s.arenaHint = max(2*s.arenaHint, 4*len(b))
		s.newArena(s.arenaHint)
	}
	start := len(s.arena)
	s.arena = append(s.arena, b...)
	return s.arena[start:len(s.arena):len(s.arena)]
}

// Watermark, Flush and Close: the sink buffers nothing; the producer the
// emit function feeds is flushed by the task's owner before it commits.
func (s *sink) Watermark(context.Context, int64) error { return nil }
func (s *sink) Flush(context.Context) error            { return nil }
func (s *sink) Close() error                           { return nil }
