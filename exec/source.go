package exec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
)

// Names of the pseudo columns every decoded source record carries.
const (
	RowTimeName      = "ROWTIME"
	RowPartitionName = "ROWPARTITION"
	RowOffsetName    = "ROWOFFSET"
	WindowStartName  = "WINDOWSTART"
	WindowEndName    = "WINDOWEND"
)

// NoStreamTime is the stream time of a task that has not seen a record yet.
// Event times are never negative (a record with a negative time is dropped),
// so every real time is larger; Kafka Streams uses the same sentinel.
const NoStreamTime int64 = -1

// HeadersType is the type of a HEADERS column:
// ARRAY<STRUCT<KEY STRING, VALUE BYTES>>.
var HeadersType = expr.ListOf(expr.StructOf(
	expr.Field("KEY", expr.StringType),
	expr.Field("VALUE", expr.BytesType),
))

// SourceDecoder turns the Kafka records of one source partition into
// batches laid out as SourceSpec documents. It is owned by one task and is
// not safe for concurrent use.
//
// Records are decoded straight into reused Arrow builders. A record that
// cannot be used (undecodable key or value, a NULL or invalid event time, a
// NULL value on a stream without SourceSpec.NullRows, a NULL key on a table) is dropped, counted and, for
// errors, reported through TaskContext.OnRecordError; it never reaches the
// operators. Decoders append a value to every builder even when they fail,
// so a dropped row is still present in the builders and is removed when the
// batch is flushed, by a take over the kept rows. That costs a copy of the
// batch, paid only by batches that contain a bad record.
type SourceDecoder struct {
	spec   SourceSpec
	tc     *TaskContext
	schema *arrow.Schema
	mem    memory.Allocator

	keyDec, valDec codec.Decoder
	builders       []array.Builder // one per schema field
	keyBs, valBs   []array.Builder // what the key and value decoders fill
	rowtime        *array.TimestampBuilder
	partition      *array.Int32Builder
	offset         *array.Int64Builder
	rowtimeIdx     int
	headerIdx      int // index of the first header column

	// tsCol is the decoded column that supplies event time, or -1 for the
	// Kafka timestamp. When set, ROWTIME is filled at Flush time from the
	// finished column (builders cannot be read back for every type).
	tsCol      int
	tsIsValue  bool // tsCol is a value column (absent in tombstones)
	parseTime  expr.ScalarImpl
	parseArgs  []any   // reused argument slice of parseTime
	kafkaTimes []int64 // per buffered row, for tombstones in tsCol mode
	recParts   []int32 // per buffered row, for error messages in tsCol mode
	recOffsets []int64
	cols       []arrow.Array

	rows      int     // rows in the builders, dropped ones included
	keep      []int32 // rows that survive, in order
	kinds     []ChangeKind
	nonInsert bool // some buffered row is not an Insert

	streamTime int64
}

// NewSourceDecoder builds the decoders for spec. tc supplies the metrics and
// the error callback; its Partition is not used (each record carries its
// own).
func NewSourceDecoder(spec SourceSpec, tc *TaskContext) (*SourceDecoder, error) {
	d := &SourceDecoder{
		spec:       spec,
		tc:         tc,
		mem:        memory.DefaultAllocator,
		tsCol:      -1,
		streamTime: NoStreamTime,
	}
	nk, nv := len(spec.Key.Fields), len(spec.Value.Fields)
	windowed := spec.Key.Window != codec.NotWindowed

	fields := make([]arrow.Field, 0, nk+nv+5+len(spec.Headers))
	nullable := func(f arrow.Field) arrow.Field {
		f.Nullable = true // every SQL value may be NULL; decoders append NULLs
		return f
	}
	for _, f := range spec.Key.Fields {
		fields = append(fields, nullable(f))
	}
	for _, f := range spec.Value.Fields {
		fields = append(fields, nullable(f))
	}
	d.rowtimeIdx = len(fields)
	fields = append(fields,
		arrow.Field{Name: RowTimeName, Type: expr.TimestampType, Nullable: true},
		arrow.Field{Name: RowPartitionName, Type: expr.IntType, Nullable: true},
		arrow.Field{Name: RowOffsetName, Type: expr.BigintType, Nullable: true},
	)
	if windowed {
		fields = append(fields,
			arrow.Field{Name: WindowStartName, Type: expr.TimestampType, Nullable: true},
			arrow.Field{Name: WindowEndName, Type: expr.TimestampType, Nullable: true},
		)
	}
	d.headerIdx = len(fields)
	for _, h := range spec.Headers {
		t := expr.BytesType
		if h.All {
			t = HeadersType
		}
		fields = append(fields, arrow.Field{Name: h.Name, Type: t, Nullable: true})
	}
	d.schema = arrow.NewSchema(fields, nil)

	d.builders = make([]array.Builder, len(fields))
	for i, f := range fields {
		d.builders[i] = array.NewBuilder(d.mem, f.Type)
	}
	d.cols = make([]arrow.Array, len(fields))
	d.rowtime = d.builders[d.rowtimeIdx].(*array.TimestampBuilder)
	d.partition = d.builders[d.rowtimeIdx+1].(*array.Int32Builder)
	d.offset = d.builders[d.rowtimeIdx+2].(*array.Int64Builder)

	d.keyBs = append([]array.Builder(nil), d.builders[:nk]...)
	if windowed {
		d.keyBs = append(d.keyBs, d.builders[d.rowtimeIdx+3], d.builders[d.rowtimeIdx+4])
	}
	d.valBs = d.builders[nk : nk+nv]

	var err error
	if nk > 0 || windowed {
		if d.keyDec, err = codec.NewDecoder(spec.Key); err != nil {
			d.Release()
			return nil, fmt.Errorf("source %q: key format: %w", spec.Topic, err)
		}
	}
	if spec.Value.Format != "" {
		if d.valDec, err = codec.NewDecoder(spec.Value); err != nil {
			d.Release()
			return nil, fmt.Errorf("source %q: value format: %w", spec.Topic, err)
		}
	}
	if err := d.initTimestamp(nk, nv); err != nil {
		d.Release()
		return nil, fmt.Errorf("source %q: %w", spec.Topic, err)
	}
	return d, nil
}

// initTimestamp validates TimestampCol and prepares its parser.
func (d *SourceDecoder) initTimestamp(nk, nv int) error {
	c := d.spec.TimestampCol
	if c < 0 {
		return nil
	}
	if c >= nk+nv {
		return fmt.Errorf("timestamp column %d is not a key or value column", c)
	}
	d.tsCol = c
	d.tsIsValue = c >= nk
	f := d.schema.Field(c)
	switch f.Type.ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		if d.spec.TimestampFormat != "" {
			return fmt.Errorf("TIMESTAMP_FORMAT applies to STRING columns, and %s is %s", f.Name, expr.TypeName(f.Type))
		}
	case arrow.STRING:
		if d.spec.TimestampFormat == "" {
			return fmt.Errorf("timestamp column %s is a STRING, so TIMESTAMP_FORMAT is required", f.Name)
		}
		// ksqlDB parses with the same code as STRINGTOTIMESTAMP, so reuse the
		// registry's function rather than a second parser that could drift.
		// The zone is UTC: ksqlDB uses the JVM's default zone, which its
		// deployments and tests run as UTC, and a server's local zone must
		// not change results.
		fn, err := expr.Resolve("STRINGTOTIMESTAMP", []arrow.DataType{expr.StringType, expr.StringType, expr.StringType})
		if err != nil {
			return fmt.Errorf("timestamp column %s: %w", f.Name, err)
		}
		if fn.Impl == nil {
			return fmt.Errorf("timestamp column %s: STRINGTOTIMESTAMP has no row implementation", f.Name)
		}
		d.parseTime = fn.Impl
		d.parseArgs = make([]any, 3)
	default:
		return fmt.Errorf("timestamp column %s must be BIGINT, TIMESTAMP or STRING, not %s", f.Name, expr.TypeName(f.Type))
	}
	return nil
}

// Schema is the layout of the batches Flush returns (see SourceSpec).
func (d *SourceDecoder) Schema() *arrow.Schema { return d.schema }

// StreamTime is the largest valid event time among the records decoded so
// far (records flushed, in TimestampCol mode), or NoStreamTime.
func (d *SourceDecoder) StreamTime() int64 { return d.streamTime }

// Append decodes r into the builders. It returns false when the record was
// dropped right away (see SourceDecoder). In TimestampCol mode a record
// whose event time turns out NULL or negative is dropped at Flush instead,
// so true means "buffered", not "will be emitted".
func (d *SourceDecoder) Append(r *kgo.Record) bool {
	m := d.tc.metrics()
	m.RecordsIn.Add(1)
	kafkaTime := r.Timestamp.UnixMilli()

	nullValue := codec.IsNullRecord(d.spec.Value, r.Value)
	if nullValue && !d.spec.Table && !d.spec.NullRows {
		// ksqlDB's stream source filters out null values. The record was
		// still consumed, so it advances stream time as in Kafka Streams,
		// where the time is taken before the source's filter runs.
		if d.tsCol < 0 && kafkaTime >= 0 {
			d.streamTime = max(d.streamTime, kafkaTime)
		}
		return false
	}
	if r.Key == nil && d.spec.Table && d.keyDec != nil {
		// A table is keyed by its primary key; Kafka Streams' table source
		// skips null keys.
		m.DroppedNulls.Add(1)
		return false
	}
	if d.tsCol < 0 && kafkaTime < 0 {
		d.tc.recordError(&m.DecodeErrors, fmt.Errorf("%s: invalid timestamp %d: record skipped", d.where(r), kafkaTime))
		return false
	}

	row := d.rows
	d.rows++
	ok := true
	if d.keyDec != nil {
		if err := d.keyDec.Decode(r.Key, d.keyBs); err != nil {
			d.tc.recordError(&m.DecodeErrors, fmt.Errorf("%s: failed to deserialize key: %w", d.where(r), err))
			ok = false
		}
	}
	if d.valDec != nil {
		if ok {
			if err := d.valDec.Decode(r.Value, d.valBs); err != nil {
				d.tc.recordError(&m.DecodeErrors, fmt.Errorf("%s: failed to deserialize value: %w", d.where(r), err))
				ok = false
			}
		} else {
			// Keep the columns aligned; the row is dropped at Flush.
			for _, b := range d.valBs {
				b.AppendNull()
			}
		}
	} else {
		for _, b := range d.valBs {
			b.AppendNull()
		}
	}

	if d.tsCol < 0 {
		d.rowtime.Append(arrow.Timestamp(kafkaTime))
		if ok {
			d.streamTime = max(d.streamTime, kafkaTime)
		}
	} else {
		d.kafkaTimes = append(d.kafkaTimes, kafkaTime)
		d.recParts = append(d.recParts, r.Partition)
		d.recOffsets = append(d.recOffsets, r.Offset)
	}
	d.partition.Append(r.Partition)
	d.offset.Append(r.Offset)
	d.appendHeaders(r.Headers)

	kind := Insert
	if nullValue { // a table's tombstone or a stream's null row (NullRows)
		kind = Delete
		d.nonInsert = true
	}
	d.kinds = append(d.kinds, kind)
	if ok {
		d.keep = append(d.keep, int32(row))
	}
	return ok
}

func (d *SourceDecoder) appendHeaders(hs []kgo.RecordHeader) {
	for i, hc := range d.spec.Headers {
		b := d.builders[d.headerIdx+i]
		if hc.All {
			lb := b.(*array.ListBuilder)
			sb := lb.ValueBuilder().(*array.StructBuilder)
			kb := sb.FieldBuilder(0).(*array.StringBuilder)
			vb := sb.FieldBuilder(1).(*array.BinaryBuilder)
			lb.Append(true)
			for _, h := range hs {
				sb.Append(true)
				kb.Append(h.Key)
				if h.Value == nil {
					vb.AppendNull()
				} else {
					vb.Append(h.Value)
				}
			}
			continue
		}
		bb := b.(*array.BinaryBuilder)
		found := -1
		for j := range hs {
			if hs[j].Key == hc.Key {
				found = j // the last one wins, as in ksqlDB's HEADER('k')
			}
		}
		if found < 0 || hs[found].Value == nil {
			bb.AppendNull()
		} else {
			bb.Append(hs[found].Value)
		}
	}
}

func (d *SourceDecoder) where(r *kgo.Record) string {
	return fmt.Sprintf("topic %s partition %d offset %d", r.Topic, r.Partition, r.Offset)
}

// Flush returns the rows buffered since the last Flush as a batch and
// resets the builders for reuse. It returns false when no row survived.
// The caller owns the batch's record and must Release it.
func (d *SourceDecoder) Flush() (Batch, bool) {
	n := d.rows
	if n == 0 {
		return Batch{}, false
	}
	defer d.reset()

	for i, b := range d.builders {
		if i != d.rowtimeIdx {
			d.cols[i] = b.NewArray()
		}
	}
	if d.tsCol >= 0 {
		d.fillRowtime()
	}
	d.cols[d.rowtimeIdx] = d.rowtime.NewArray()
	rec := array.NewRecord(d.schema, d.cols, int64(n))
	for i, c := range d.cols {
		c.Release()
		d.cols[i] = nil
	}
	if len(d.keep) == 0 {
		rec.Release()
		return Batch{}, false
	}

	var kinds []ChangeKind
	if d.nonInsert {
		// A fresh slice: receivers may hold on to Kinds with the record.
		kinds = make([]ChangeKind, len(d.keep))
		for i, r := range d.keep {
			kinds[i] = d.kinds[r]
		}
	}
	if len(d.keep) < n {
		taken, err := takeRecord(d.mem, rec, d.keep)
		rec.Release()
		if err != nil {
			// Take supports every type the decoders build; reaching this
			// is a bug, but it must not take down the task silently.
			d.tc.recordError(&d.tc.metrics().DecodeErrors, fmt.Errorf("source %s: dropping a batch of %d rows: %w", d.spec.Topic, len(d.keep), err))
			return Batch{}, false
		}
		rec = taken
	}
	return Batch{Rec: rec, Kinds: kinds}, true
}

// fillRowtime computes ROWTIME from the finished timestamp column and drops
// the rows whose time is NULL, unparsable or negative (ksqlDB's default
// extractor logs and skips them).
func (d *SourceDecoder) fillRowtime() {
	col := d.cols[d.tsCol]
	m := d.tc.metrics()
	kept := d.keep[:0]
	k := 0
	for row := 0; row < d.rows; row++ {
		alive := k < len(d.keep) && int(d.keep[k]) == row
		if alive {
			k++
		}
		var t int64
		var err error
		if d.tsIsValue && d.kinds[row] == Delete {
			// A tombstone has no value to take the time from; use the
			// record's own so that it still reaches the table.
			t = d.kafkaTimes[row]
		} else {
			t, err = d.eventTime(col, row)
		}
		d.rowtime.Append(arrow.Timestamp(t))
		if !alive {
			continue
		}
		if err != nil {
			d.tc.recordError(&m.DecodeErrors, fmt.Errorf("topic %s partition %d offset %d: %w: record skipped", d.spec.Topic, d.recParts[row], d.recOffsets[row], err))
			continue
		}
		d.streamTime = max(d.streamTime, t)
		kept = append(kept, int32(row))
	}
	d.keep = kept
}

var errNullTimestamp = errors.New("timestamp column is NULL")

func (d *SourceDecoder) eventTime(col arrow.Array, row int) (int64, error) {
	if col.IsNull(row) {
		return 0, fmt.Errorf("%w (column %s)", errNullTimestamp, d.schema.Field(d.tsCol).Name)
	}
	var t int64
	switch c := col.(type) {
	case *array.Int64:
		t = c.Value(row)
	case *array.Timestamp:
		t = int64(c.Value(row))
	case *array.String:
		d.parseArgs[0], d.parseArgs[1], d.parseArgs[2] = c.Value(row), d.spec.TimestampFormat, "UTC"
		v, err := d.parseTime(d.parseArgs)
		d.parseArgs[0] = nil
		if err != nil {
			return 0, fmt.Errorf("cannot parse timestamp %q with format %q: %w", c.Value(row), d.spec.TimestampFormat, err)
		}
		switch v := v.(type) {
		case int64:
			t = v
		case expr.Timestamp:
			t = int64(v)
		case nil:
			return 0, fmt.Errorf("cannot parse timestamp %q with format %q", c.Value(row), d.spec.TimestampFormat)
		default:
			return 0, fmt.Errorf("STRINGTOTIMESTAMP returned %T", v)
		}
	default:
		return 0, fmt.Errorf("timestamp column has type %s", col.DataType())
	}
	if t < 0 {
		return 0, fmt.Errorf("invalid timestamp %d", t)
	}
	return t, nil
}

func (d *SourceDecoder) reset() {
	d.rows = 0
	d.keep = d.keep[:0]
	d.kinds = d.kinds[:0]
	d.kafkaTimes = d.kafkaTimes[:0]
	d.recParts = d.recParts[:0]
	d.recOffsets = d.recOffsets[:0]
	d.nonInsert = false
}

// Release frees the builders. The decoder must not be used afterwards.
func (d *SourceDecoder) Release() {
	for i, b := range d.builders {
		if b != nil {
			b.Release()
			d.builders[i] = nil
		}
	}
}

// String describes the decoder for EXPLAIN and error messages.
func (d *SourceDecoder) String() string {
	names := make([]string, len(d.schema.Fields()))
	for i, f := range d.schema.Fields() {
		names[i] = f.Name
	}
	return fmt.Sprintf("Source(%s: %s)", d.spec.Topic, strings.Join(names, ", "))
}
