package exec

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// nullWhereDeleted makes the Delete rows of a sliced array NULL and keeps
// the other rows, NULLs included.
func TestNullWhereDeleted(t *testing.T) {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues([]int64{1, 2, 0, 4, 5}, []bool{true, true, false, true, true})
	full := b.NewInt64Array()
	defer full.Release()
	sliced := array.NewSlice(full, 1, 5) // 2, NULL, 4, 5
	out := nullWhereDeleted(sliced, []ChangeKind{Insert, Delete, Insert, Delete}).(*array.Int64)
	defer out.Release()
	if got, want := out.String(), "[2 (null) 4 (null)]"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if out.NullN() != 2 {
		t.Fatalf("NullN = %d, want 2", out.NullN())
	}
	same := array.NewSlice(full, 0, 2)
	if got := nullWhereDeleted(same, []ChangeKind{Insert, Insert}); got != same {
		t.Fatal("an array without Delete rows was copied")
	}
	same.Release()
}
