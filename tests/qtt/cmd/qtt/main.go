// Command qtt runs ksqlDB query-validation test files against sluice.
//
//	go run ./tests/qtt/cmd/qtt -dir ../shared/qtt [-run REGEXP] [-v]
//
// It prints one line per case (PASS, FAIL or SKIP with the reason), a short
// expected-versus-actual diff for each failure (-v adds the statements and
// full record listings), and a summary with counts per file and the score
// lines. Files under a directory named "rest" are REST test files. The exit
// status is 1 when a case fails, 2 on a usage or loading error.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"time"

	"github.com/sluicedb/sluice/tests/qtt"
)

func main() {
	dir := flag.String("dir", "", "directory of QTT files (default: $SLUICE_QTT_DIR or ../shared/qtt)")
	run := flag.String("run", "", "run only cases whose names match this regular expression")
	verbose := flag.Bool("v", false, "print statements and full diffs")
	workers := flag.Int("p", 0, "cases to run in parallel (default GOMAXPROCS)")
	timeout := flag.Duration("timeout", qtt.DefaultTimeout, "time limit per case")
	baseline := flag.String("baseline", "", "if set, also report regressions against this baseline file")
	flag.Parse()

	if *dir == "" {
		d, err := qtt.SuiteDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, "qtt:", err)
			os.Exit(2)
		}
		*dir = d
	}
	var filter *regexp.Regexp
	if *run != "" {
		re, err := regexp.Compile(*run)
		if err != nil {
			fmt.Fprintln(os.Stderr, "qtt: -run:", err)
			os.Exit(2)
		}
		filter = re
	}
	files, err := qtt.LoadDir(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qtt:", err)
		os.Exit(2)
	}
	cases := qtt.Cases(files, filter)
	if len(cases) == 0 {
		fmt.Fprintln(os.Stderr, "qtt: no cases match")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	runner := &qtt.Runner{Timeout: *timeout}
	results := qtt.RunSuite(ctx, runner, cases, *workers, func(r *qtt.Result) {
		qtt.WriteResult(os.Stdout, r, *verbose)
	})
	fmt.Println()
	sum := qtt.Summarize(results)
	qtt.WriteSummary(os.Stdout, sum)
	fmt.Printf("%d cases in %.1fs\n", len(results), time.Since(start).Seconds())

	if *baseline != "" {
		base, err := qtt.ReadBaseline(*baseline)
		if err != nil {
			fmt.Fprintln(os.Stderr, "qtt:", err)
			os.Exit(2)
		}
		for _, r := range qtt.Regressions(base, results) {
			fmt.Printf("REGRESSION  %s: %s\n", r.Case.Name, r.Reason)
		}
	}
	if sum.QTT.Fail+sum.REST.Fail > 0 {
		os.Exit(1)
	}
}
