package qtt

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

var (
	updateBaseline = flag.Bool("update-baseline", false, "rewrite baseline.txt with the cases that pass today (also SLUICE_QTT_UPDATE=1)")
	qttRun         = flag.String("qtt.run", "", "run only conformance cases whose names match this regular expression")
)

const baselinePath = "baseline.txt"

// TestLoadSuite loads every file of the suite: the loader must accept all of
// them, expand them to unique names, and classify skips.
func TestLoadSuite(t *testing.T) {
	dir, err := SuiteDir()
	if err != nil {
		t.Skip(err)
	}
	files, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := Cases(files, nil)
	var rest, skipped int
	for _, c := range cases {
		if c.REST {
			rest++
		}
		if c.SkipReason() != "" {
			skipped++
		}
	}
	t.Logf("%d files, %d cases (%d REST), %d skipped", len(files), len(cases), rest, skipped)
	if len(cases) < 1000 || rest == 0 || skipped == 0 || skipped > len(cases)/2 {
		t.Errorf("implausible suite: %d cases, %d REST, %d skipped", len(cases), rest, skipped)
	}
}

// TestConformance plays the QTT suite (../shared/qtt, or $SLUICE_QTT_DIR)
// against sluice and prints the score. It fails when a case listed in
// baseline.txt no longer passes. With -update-baseline or
// SLUICE_QTT_UPDATE=1 it rewrites baseline.txt with today's passing set.
// -qtt.run REGEXP limits the cases (the baseline is then only checked,
// never rewritten).
func TestConformance(t *testing.T) {
	dir, err := SuiteDir()
	if err != nil {
		t.Skip(err)
	}
	if !engineAvailable(t) {
		t.Skip("the engine does not open yet")
	}
	files, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var filter *regexp.Regexp
	if *qttRun != "" {
		if filter, err = regexp.Compile(*qttRun); err != nil {
			t.Fatal(err)
		}
	}
	cases := Cases(files, filter)
	results := RunSuite(context.Background(), &Runner{TempDir: t.TempDir()}, cases, 0, func(r *Result) {
		if testing.Verbose() {
			var b strings.Builder
			WriteResult(&b, r, false)
			t.Log(strings.TrimRight(b.String(), "\n"))
		}
	})
	sum := Summarize(results)
	var b strings.Builder
	WriteSummary(&b, sum)
	if testing.Verbose() {
		t.Log("\n" + b.String())
	}
	// The score lines start at column 0 (scripts/test.sh greps for
	// ^conformance). go test shows a passing package's output only with -v
	// or in local directory mode; SLUICE_QTT_SCORE_FILE also receives them.
	score := ScoreLine("conformance", sum.QTT) + "\n" + ScoreLine("conformance (rest)", sum.REST) + "\n"
	fmt.Print(score)
	if path := os.Getenv("SLUICE_QTT_SCORE_FILE"); path != "" {
		if err := os.WriteFile(path, []byte(score), 0o644); err != nil {
			t.Error(err)
		}
	}

	if *updateBaseline || os.Getenv("SLUICE_QTT_UPDATE") == "1" {
		if filter != nil {
			t.Fatal("refusing to rewrite the baseline from a filtered run")
		}
		if err := WriteBaseline(baselinePath, results); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", baselinePath)
		return
	}
	base, err := ReadBaseline(baselinePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Regressions(base, results) {
		var b strings.Builder
		WriteResult(&b, r, false)
		t.Errorf("regression: %s", strings.TrimRight(b.String(), "\n"))
	}
}
