package expr

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// The benchmarks model Nexmark's stateless queries over bid batches:
// q2's filter (price > 100 AND auction % 123 = 0) and q1's projection
// (price * 0.908), with a share of NULL prices.

func bidBatch(n, nullPct int) arrow.Record {
	r := rand.New(rand.NewPCG(7, uint64(n)))
	ab, pb := array.NewInt64Builder(mem()), array.NewInt64Builder(mem())
	defer ab.Release()
	defer pb.Release()
	for i := 0; i < n; i++ {
		ab.Append(int64(1000 + r.IntN(100)))
		if r.IntN(100) < nullPct {
			pb.AppendNull()
		} else {
			pb.Append(int64(r.IntN(10_000)))
		}
	}
	a, p := ab.NewArray(), pb.NewArray()
	defer a.Release()
	defer p.Release()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "AUCTION", Type: BigintType, Nullable: true},
		{Name: "PRICE", Type: BigintType, Nullable: true},
	}, nil)
	return array.NewRecord(schema, []arrow.Array{a, p}, int64(n))
}

func benchEval(b *testing.B, n Node, name string) {
	for _, size := range []int{1024} {
		for _, nulls := range []int{0, 10} {
			b.Run(fmt.Sprintf("batch=%d,nulls=%d%%", size, nulls), func(b *testing.B) {
				rec := bidBatch(size, nulls)
				defer rec.Release()
				e, err := Compile(n)
				if err != nil {
					b.Fatal(err)
				}
				ctx := &Ctx{}
				b.ReportAllocs()
				b.SetBytes(int64(size) * 16) // two BIGINT columns
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					out, err := e.Eval(ctx, rec)
					if err != nil {
						b.Fatal(err)
					}
					out.Release()
				}
			})
		}
	}
}

var (
	auctionCol = &Col{Index: 0, Name: "AUCTION", Type: BigintType}
	priceCol   = &Col{Index: 1, Name: "PRICE", Type: BigintType}
)

func BenchmarkFilter(b *testing.B) {
	pred := call(b, "AND",
		call(b, ">", priceCol, lit(int32(100))),
		call(b, "=", call(b, "%", auctionCol, lit(int32(123))), lit(int32(0))))
	benchEval(b, pred, "filter")
}

// BenchmarkProjection: q1's conversion as Nexmark writes it (0.908 is a
// DECIMAL literal in ksqlDB, so the result is DECIMAL(23, 3)), the same
// with a DOUBLE rate, and a DECIMAL column cast to DOUBLE.
func BenchmarkProjection(b *testing.B) {
	b.Run("op=bigint*decimal", func(b *testing.B) {
		benchEval(b, call(b, "*", priceCol, &Lit{Value: decLit(908, 3, 3), Type: DecimalType(3, 3)}), "projection")
	})
	b.Run("op=bigint*double", func(b *testing.B) {
		benchEval(b, call(b, "*", priceCol, lit(0.908)), "projection")
	})
	b.Run("op=cast(decimal*decimal_as_double)", func(b *testing.B) {
		rate := &Lit{Value: decLit(908, 3, 3), Type: DecimalType(3, 3)}
		prod := call(b, "*", &Cast{X: priceCol, Type: DecimalType(10, 2)}, rate)
		benchEval(b, &Cast{X: prod, Type: DoubleType}, "projection")
	})
}

func decLit(unscaled int64, p, s int32) Decimal {
	return Decimal{V: decimal128.FromI64(unscaled), Precision: p, Scale: s}
}
