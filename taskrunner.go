package sluice

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
)

// taskRunner owns a task's goroutine (DESIGN.md decision 5: one goroutine
// per task). submit hands it a partition's records; wait returns when it has
// processed them. Only the query's cycle calls submit and wait, alternately.
type taskRunner struct {
	task *exec.Task
	// recycler, the task's sink, reuses the memory of the records a cycle
	// produced once the producer acknowledged them.
	recycler exec.RecordRecycler
	in       chan work
	out      chan error
	quit     chan struct{}
}

type work struct {
	ctx  context.Context
	recs [][]*kgo.Record // per input of the task
}

func newTaskRunner(t *exec.Task) *taskRunner {
	r := &taskRunner{task: t, in: make(chan work), out: make(chan error, 1), quit: make(chan struct{})}
	go r.loop()
	return r
}

func (r *taskRunner) loop() {
	for {
		select {
		case w := <-r.in:
			r.out <- r.task.ProcessInputs(w.ctx, w.recs)
		case <-r.quit:
			return
		}
	}
}

func (r *taskRunner) submit(ctx context.Context, recs [][]*kgo.Record) { r.in <- work{ctx, recs} }

func (r *taskRunner) wait() error { return <-r.out }

func (r *taskRunner) close() error {
	close(r.quit)
	return r.task.Close()
}

// recordErrorLogger returns the TaskContext.OnRecordError of a query: it logs
// bad records (topic, partition, offset are in the error text) with a rate
// limit, while the metrics count every one.
func (e *Engine) recordErrorLogger(queryID string, m *exec.Metrics) func(error) {
	var logged atomic.Int64
	var windowStart atomic.Int64
	return func(err error) {
		m.NoteError(err)
		now := time.Now().Unix()
		if ws := windowStart.Load(); now-ws >= 60 {
			windowStart.Store(now)
			logged.Store(0)
		}
		if logged.Add(1) <= 20 {
			e.log.Warn("record skipped", slog.String("query", queryID), slog.String("err", fmt.Sprint(err)))
		}
	}
}
