package exec_test

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/exectest"
	"github.com/sluicedb/sluice/exec/expr"
)

func col(i int, name string, t arrow.DataType) expr.Node {
	return &expr.Col{Index: i, Name: name, Type: t}
}

// Several table functions zip to the longest result, NULL-padding the
// others; a row whose results are all empty (NULL or [] arrays) emits
// nothing; NULL elements stay NULL.
func TestFlatMapExplodeZips(t *testing.T) {
	// Decoded layout: ID, A, B, ROWTIME, ROWPARTITION, ROWOFFSET; the
	// flat map appends X (7th) and Y (8th).
	bigints, strs := expr.ListOf(expr.BigintType), expr.ListOf(expr.StringType)
	s := exectest.Scenario{
		Source: kvSource(false, expr.Field("A", bigints), expr.Field("B", strs)),
		Records: recs(
			`a|{"A":[1,2],"B":["x","y","z"]}|1`,
			`b|{"A":null,"B":[]}|2`,
			`c|{"A":[3],"B":null}|3`,
			`d|{"A":[4,null],"B":["w"]}|4`,
			`e|{"A":[],"B":["v"]}|5`,
		),
		Ops: []any{
			exec.FlatMapSpec{
				Funcs: []exec.TableFunc{
					{Name: exec.Explode, Arg: col(1, "A", bigints)},
					{Name: exec.Explode, Arg: col(2, "B", strs)},
				},
				Names: []string{"X", "Y"},
			},
			exec.ProjectSpec{
				Exprs: []expr.Node{col(0, "ID", expr.StringType), col(6, "X", expr.BigintType), col(7, "Y", expr.StringType), col(3, "ROWTIME", expr.TimestampType)},
				Names: []string{"ID", "X", "Y", "T"},
			},
		},
	}
	check(t, s, `+I ID='a' X=1 Y='x' T=1
+I ID='a' X=2 Y='y' T=1
+I ID='a' X=NULL Y='z' T=1
+I ID='c' X=3 Y=NULL T=3
+I ID='d' X=4 Y='w' T=4
+I ID='d' X=NULL Y=NULL T=4
+I ID='e' X=NULL Y='v' T=5
in=5 out=0 decode-errors=0 eval-errors=0 dropped-nulls=0 stream-time=5
`)
}

// CUBE_EXPLODE emits the array itself first, then every combination of
// its non-NULL elements replaced by NULL; an element that is NULL already
// does not duplicate combinations.
func TestFlatMapCubeExplode(t *testing.T) {
	ints := expr.ListOf(expr.IntType)
	s := exectest.Scenario{
		Source: kvSource(false, expr.Field("A", ints)),
		Records: recs(
			`a|{"A":[1,2]}|1`,
			`b|{"A":[3,null]}|2`,
			`c|{"A":null}|3`,
			`d|{"A":[]}|4`,
		),
		Ops: []any{
			exec.FlatMapSpec{Funcs: []exec.TableFunc{{Name: exec.CubeExplode, Arg: col(1, "A", ints)}}, Names: []string{"C"}},
			exec.ProjectSpec{
				Exprs: []expr.Node{col(0, "ID", expr.StringType), col(5, "C", ints)},
				Names: []string{"ID", "C"},
			},
		},
	}
	check(t, s, `+I ID='a' C=[1, 2]
+I ID='a' C=[NULL, 2]
+I ID='a' C=[1, NULL]
+I ID='a' C=[NULL, NULL]
+I ID='b' C=[3, NULL]
+I ID='b' C=[NULL, NULL]
+I ID='d' C=[]
in=4 out=0 decode-errors=0 eval-errors=0 dropped-nulls=0 stream-time=4
`)
}

func TestFlatMapRejectsNonArrays(t *testing.T) {
	_, err := exec.NewFlatMap(exec.FlatMapSpec{
		Funcs: []exec.TableFunc{{Name: exec.Explode, Arg: col(0, "ID", expr.StringType)}},
		Names: []string{"X"},
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "does not accept parameters (STRING)") {
		t.Fatalf("got %v", err)
	}
}
