package exec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/expr"
)

// fkJoinScenario is a foreign-key join of a left table, arriving as its
// subscription (the changelog re-keyed by the foreign key ID, the primary
// key L_ID and the change kind $CHANGE in the value), to a right table
// keyed by ID. In recs, $CHANGE is written as I, UB, UA or D.
func fkJoinScenario(t *testing.T, typ exec.JoinType, recs ...string) joinScenario {
	l := joinSide("l", false, expr.Field("L_ID", expr.BigintType), expr.Field("NAME", expr.StringType), expr.Field("$CHANGE", expr.IntType))
	r := joinSide("r", true, expr.Field("B", expr.StringType))
	kinds := strings.NewReplacer(
		`"$CHANGE":"I"`, fmt.Sprintf(`"$CHANGE":%d`, exec.Insert),
		`"$CHANGE":"UB"`, fmt.Sprintf(`"$CHANGE":%d`, exec.UpdateBefore),
		`"$CHANGE":"UA"`, fmt.Sprintf(`"$CHANGE":%d`, exec.UpdateAfter),
		`"$CHANGE":"D"`, fmt.Sprintf(`"$CHANGE":%d`, exec.Delete))
	for i, rec := range recs {
		recs[i] = kinds.Replace(rec)
	}
	s := newJoinScenario(t, exec.ForeignKey, typ, nil, l, r, recs...)
	s.spec.LeftPK = []int{1}
	s.spec.LeftChangeCol = 3
	return s
}

// The KIP-213 cases: a right update re-emits every left row referencing
// it; a left row moving to another foreign key retracts (INNER) or pads
// (LEFT) when the new key has no match, and only its UpdateAfter decides
// the result (the UpdateBefore may be in another task); a NULL foreign key
// joins nothing; a left delete is a tombstone of its primary key.
func fkRecords() []string {
	return []string{
		`r|0|{"B":"b0"}|1`,
		`l|0|{"L_ID":1,"NAME":"x","$CHANGE":"I"}|2`,
		`l|0|{"L_ID":2,"NAME":"y","$CHANGE":"I"}|3`,
		`l|7|{"L_ID":4,"NAME":"w","$CHANGE":"I"}|3`, // no match, new row
		`r|0|{"B":"b0'"}|4`,
		`l|0|{"L_ID":1,"NAME":"x","$CHANGE":"UB"}|5`,
		`l|5|{"L_ID":1,"NAME":"x'","$CHANGE":"UA"}|5`,
		`r|5|{"B":"b5"}|6`,
		`r|0|-|7`,
		`l|-|{"L_ID":3,"NAME":"z","$CHANGE":"I"}|8`,
		`l|5|{"L_ID":1,"NAME":"x'","$CHANGE":"D"}|9`,
		`r|9|-|10`, // tombstone for a key never seen
	}
}

func TestJoinForeignKeyInner(t *testing.T) {
	fkJoinScenario(t, exec.JoinInner, fkRecords()...).check(t, `+I K=0 ID=0 L_ID=1 NAME='x' $CHANGE=0 ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ID=0 B='b0' ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=2
+I K=0 ID=0 L_ID=2 NAME='y' $CHANGE=0 ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=0 B='b0' ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=3
+I K=0 ID=0 L_ID=1 NAME='x' $CHANGE=0 ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ID=0 B='b0''' ROWTIME=4 ROWPARTITION=0 ROWOFFSET=1 ROWTIME=4
+I K=0 ID=0 L_ID=2 NAME='y' $CHANGE=0 ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=0 B='b0''' ROWTIME=4 ROWPARTITION=0 ROWOFFSET=1 ROWTIME=4
-D K=5 ID=5 L_ID=1 NAME='x''' $CHANGE=3 ROWTIME=5 ROWPARTITION=0 ROWOFFSET=4 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=5
+I K=5 ID=5 L_ID=1 NAME='x''' $CHANGE=3 ROWTIME=5 ROWPARTITION=0 ROWOFFSET=4 ID=5 B='b5' ROWTIME=6 ROWPARTITION=0 ROWOFFSET=2 ROWTIME=6
-D K=0 ID=0 L_ID=2 NAME='y' $CHANGE=0 ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=7
-D K=5 ID=5 L_ID=1 NAME='x''' $CHANGE=1 ROWTIME=9 ROWPARTITION=0 ROWOFFSET=6 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=9
in=12 dropped-nulls=0 unknown-tombstones=1 late=0 stream-time=10
`)
}

func TestJoinForeignKeyLeft(t *testing.T) {
	fkJoinScenario(t, exec.JoinLeft, fkRecords()...).check(t, `+I K=0 ID=0 L_ID=1 NAME='x' $CHANGE=0 ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ID=0 B='b0' ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=2
+I K=0 ID=0 L_ID=2 NAME='y' $CHANGE=0 ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=0 B='b0' ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=3
+I K=7 ID=7 L_ID=4 NAME='w' $CHANGE=0 ROWTIME=3 ROWPARTITION=0 ROWOFFSET=2 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=3
+I K=0 ID=0 L_ID=1 NAME='x' $CHANGE=0 ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ID=0 B='b0''' ROWTIME=4 ROWPARTITION=0 ROWOFFSET=1 ROWTIME=4
+I K=0 ID=0 L_ID=2 NAME='y' $CHANGE=0 ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=0 B='b0''' ROWTIME=4 ROWPARTITION=0 ROWOFFSET=1 ROWTIME=4
+I K=5 ID=5 L_ID=1 NAME='x''' $CHANGE=3 ROWTIME=5 ROWPARTITION=0 ROWOFFSET=4 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=5
+I K=5 ID=5 L_ID=1 NAME='x''' $CHANGE=3 ROWTIME=5 ROWPARTITION=0 ROWOFFSET=4 ID=5 B='b5' ROWTIME=6 ROWPARTITION=0 ROWOFFSET=2 ROWTIME=6
+I K=0 ID=0 L_ID=2 NAME='y' $CHANGE=0 ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=7
+I K=NULL ID=NULL L_ID=3 NAME='z' $CHANGE=0 ROWTIME=8 ROWPARTITION=0 ROWOFFSET=5 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=8
-D K=5 ID=5 L_ID=1 NAME='x''' $CHANGE=1 ROWTIME=9 ROWPARTITION=0 ROWOFFSET=6 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=9
in=12 dropped-nulls=0 unknown-tombstones=1 late=0 stream-time=10
`)
}
