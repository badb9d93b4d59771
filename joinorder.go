package sluice

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Cross-topic order in a join stage.
//
// A task of a join stage reads several topics, and the result of a join
// depends on the order in which it sees their records. The task orders
// what it is handed by timestamp (exec.Task.ProcessInputs); for that order
// not to depend on when each topic's records happened to be fetched, a
// cycle hands each task only the prefix of its fetched records that Kafka
// Streams would process before it must wait for an input (exec.Task.
// CutInputs): an input is waited for when its partition has records in
// Kafka beyond those fetched (its known end offset is past the position).
// The records held back are fetched again by the next cycle: the
// consumer's position moves back to the first of them, so the offsets the
// cycle commits (in its transaction under exactly-once) are those of the
// records processed.
//
// An input is waited for at most maxTaskIdle (Kafka Streams'
// max.task.idle.ms): a task that could take nothing for that long takes
// everything it has. End offsets come from the fetch responses; an input
// not fetched yet has its end looked up once.

// maxTaskIdle bounds how long a task of a join stage waits for an input
// that has records in Kafka but none fetched.
const maxTaskIdle = 2 * time.Second

// noteEnd records the end offset (last stable offset under read_committed)
// that a fetch response gave for input i of partition p.
func (s *stage) noteEnd(p int32, i int, fp kgo.FetchPartition) {
	end := fp.LastStableOffset
	if end < 0 {
		end = fp.HighWatermark
	}
	ends := s.endsOf(p)
	ends[i] = max(ends[i], end)
}

// endsOf returns the known end offsets of partition p's inputs (-1 for
// not known).
func (s *stage) endsOf(p int32) []int64 {
	if s.ends == nil {
		s.ends, s.idleSince = map[int32][]int64{}, map[int32]time.Time{}
	}
	ends := s.ends[p]
	if ends == nil {
		ends = make([]int64, len(s.topics))
		for i := range ends {
			ends[i] = -1
		}
		s.ends[p] = ends
	}
	return ends
}

// orderInputs cuts each task's fetched records (work) to the prefix it
// may process now, moves the consumer back to the first record held back
// of each input, and returns the number of records held back.
func (s *stage) orderInputs(ctx context.Context, work map[int32][][]*kgo.Record) int {
	if len(s.topics) < 2 {
		return 0
	}
	s.lookUpEnds(ctx, work)
	held := 0
	rewind := map[string]map[int32]kgo.EpochOffset{}
	now := time.Now()
	for p, recs := range work {
		ends := s.endsOf(p)
		behind := make([]bool, len(recs))
		fetched := false
		for i := range recs {
			behind[i] = ends[i] > s.pos[p][i]
			fetched = fetched || len(recs[i]) > 0
		}
		take := s.tasks[p].task.CutInputs(recs, behind)
		took := false
		for _, k := range take {
			took = took || k > 0
		}
		switch {
		case took || !fetched:
			delete(s.idleSince, p)
		case s.idleSince[p].IsZero():
			s.idleSince[p] = now
		case now.Sub(s.idleSince[p]) >= maxTaskIdle:
			// Waited long enough: take everything, and do not wait for
			// the inputs that kept the task idle until a fetch of theirs
			// tells their end again.
			for i := range recs {
				take[i] = len(recs[i])
				if behind[i] && len(recs[i]) == 0 {
					ends[i] = s.pos[p][i]
				}
			}
			delete(s.idleSince, p)
			s.q.e.log.Debug("join task waited max.task.idle for an input; processing without it",
				"query", s.q.id, "stage", s.name, "partition", p)
		}
		for i, k := range take {
			if k == len(recs[i]) {
				continue
			}
			first := recs[i][k].Offset
			if rewind[s.topics[i]] == nil {
				rewind[s.topics[i]] = map[int32]kgo.EpochOffset{}
			}
			rewind[s.topics[i]][p] = kgo.EpochOffset{Epoch: -1, Offset: first}
			s.pos[p][i] = first
			held += len(recs[i]) - k
			recs[i] = recs[i][:k]
		}
	}
	if len(rewind) > 0 {
		s.consumer.SetOffsets(rewind)
	}
	return held
}

// lookUpEnds fills in the end offsets of the inputs of work's partitions
// that no fetch has told yet (one listing of the stage's topics).
func (s *stage) lookUpEnds(ctx context.Context, work map[int32][][]*kgo.Record) {
	unknown := false
	for p := range work {
		for _, e := range s.endsOf(p) {
			unknown = unknown || e < 0
		}
	}
	if !unknown {
		return
	}
	stable, err := s.stableOffsets(ctx)
	if err != nil {
		// Not knowing an end only means not waiting for that input.
		s.q.e.log.Debug("join stage: end offsets unknown", "query", s.q.id, "stage", s.name, "err", err)
		return
	}
	for p := range work {
		ends := s.endsOf(p)
		for i, topic := range s.topics {
			if e, ok := stable[topic][p]; ok && ends[i] < 0 {
				ends[i] = e
			}
		}
	}
}
