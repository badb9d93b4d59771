package codec

import (
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// The benchmarks model Nexmark's Bid event (92% of the stream), the record
// every Nexmark query decodes: declared unquoted in SQL, so the columns are
// upper case while the JSON keys are camel case, exercising the
// case-insensitive match on every field.

func bidFields() []arrow.Field {
	return fields("AUCTION", tBig, "BIDDER", tBig, "PRICE", tBig, "CHANNEL", tStr, "URL", tStr, "DATETIME", tTS, "EXTRA", tStr)
}

func bidJSON(i int) []byte {
	return []byte(`{"auction":` + strconv.Itoa(1000+i%100) + `,"bidder":` + strconv.Itoa(2001+i%1000) +
		`,"price":` + strconv.Itoa(4567+i) + `,"channel":"Google","url":"https://www.nexmark.com/xxx/item.htm?query=1",` +
		`"dateTime":` + strconv.Itoa(1700000000000+i) + `,"extra":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`)
}

const benchBatch = 1024

func newBuilders(types []arrow.DataType) []array.Builder {
	bs := make([]array.Builder, len(types))
	for i, t := range types {
		bs[i] = array.NewBuilder(memory.DefaultAllocator, t)
	}
	return bs
}

// flush ends a batch as a source does: arrays are built and released, the
// builders reused.
func flush(bs []array.Builder) {
	for _, b := range bs {
		b.NewArray().Release()
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	b.Run("fields=7", func(b *testing.B) {
		s := Spec{Format: JSON, Fields: bidFields()}
		d, err := NewDecoder(s)
		if err != nil {
			b.Fatal(err)
		}
		recs := make([][]byte, 64)
		size := 0
		for i := range recs {
			recs[i] = bidJSON(i)
			size += len(recs[i])
		}
		bs := newBuilders(specTypes(s))
		b.SetBytes(int64(size / len(recs)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := d.Decode(recs[i%len(recs)], bs); err != nil {
				b.Fatal(err)
			}
			if i%benchBatch == benchBatch-1 {
				flush(bs)
			}
		}
	})
	b.Run("nested", func(b *testing.B) {
		s := Spec{Format: JSON, Fields: fields("ID", tBig, "TAGS", arrow.ListOf(tStr),
			"ATTRS", arrow.MapOf(tStr, tDouble), "ADDR", arrow.StructOf(fields("CITY", tStr, "ZIP", tInt)...))}
		d, err := NewDecoder(s)
		if err != nil {
			b.Fatal(err)
		}
		rec := []byte(`{"id":1,"tags":["a","b","c"],"attrs":{"x":1.5,"y":2.25},"addr":{"city":"Z\u00fcrich","zip":8000}}`)
		bs := newBuilders(specTypes(s))
		b.SetBytes(int64(len(rec)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := d.Decode(rec, bs); err != nil {
				b.Fatal(err)
			}
			if i%benchBatch == benchBatch-1 {
				flush(bs)
			}
		}
	})
}

func BenchmarkDecodeDelimited(b *testing.B) {
	b.Run("fields=7", func(b *testing.B) {
		s := Spec{Format: Delimited, Fields: bidFields()}
		d, err := NewDecoder(s)
		if err != nil {
			b.Fatal(err)
		}
		rec := []byte(`1000,2001,4567,Google,https://www.nexmark.com/xxx/item.htm?query=1,1700000000000,"aaaa,aaaa"`)
		bs := newBuilders(specTypes(s))
		b.SetBytes(int64(len(rec)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := d.Decode(rec, bs); err != nil {
				b.Fatal(err)
			}
			if i%benchBatch == benchBatch-1 {
				flush(bs)
			}
		}
	})
}

// bidBatch decodes benchBatch bids into arrays for the encode benchmarks.
func bidBatch(b *testing.B) []arrow.Array {
	s := Spec{Format: JSON, Fields: bidFields()}
	d, err := NewDecoder(s)
	if err != nil {
		b.Fatal(err)
	}
	bs := newBuilders(specTypes(s))
	for i := 0; i < benchBatch; i++ {
		if err := d.Decode(bidJSON(i), bs); err != nil {
			b.Fatal(err)
		}
	}
	cols := make([]arrow.Array, len(bs))
	for i, bl := range bs {
		cols[i] = bl.NewArray()
	}
	return cols
}

func BenchmarkEncode(b *testing.B) {
	cols := bidBatch(b)
	for _, format := range []string{JSON, Delimited} {
		b.Run("format="+format+",fields=7", func(b *testing.B) {
			e, err := NewEncoder(Spec{Format: format, Fields: bidFields()})
			if err != nil {
				b.Fatal(err)
			}
			out, _ := e.Encode(nil, cols, 0)
			b.SetBytes(int64(len(out)))
			var buf []byte
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if buf, err = e.Encode(buf[:0], cols, i%benchBatch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("format=KAFKA,type=BIGINT", func(b *testing.B) {
		e, err := NewEncoder(Spec{Format: Kafka, Fields: fields("AUCTION", tBig)})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(8)
		var buf []byte
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if buf, err = e.Encode(buf[:0], cols[:1], i%benchBatch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("format=JSON,type=DOUBLE", func(b *testing.B) {
		bl := array.NewFloat64Builder(memory.DefaultAllocator)
		for i := 0; i < benchBatch; i++ {
			bl.Append(float64(i) * 0.908)
		}
		cols := []arrow.Array{bl.NewArray()}
		e, err := NewEncoder(Spec{Format: JSON, Fields: fields("PRICE", tDouble)})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(24)
		var buf []byte
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if buf, err = e.Encode(buf[:0], cols, i%benchBatch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
