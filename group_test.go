package sluice

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// taskBalancer gives partition p of every topic of a stage to the same
// member (a join's co-partitioned inputs stay in one task), spreads the
// partitions over the members, and gives each instance the same partitions
// whenever the same instances are in the group. Real group members join a
// kfake broker; it takes about a second.
func TestTaskBalancerCoPartitions(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(5, "left", "right"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	type member struct {
		mu       sync.Mutex
		assigned map[string][]int32
		cl       *kgo.Client
	}
	join := func(instance string) *member {
		m := &member{}
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...),
			kgo.ConsumerGroup("stage"), kgo.ConsumeTopics("left", "right"),
			kgo.Balancers(taskBalancer{meta: memberMeta{Instance: instance}}), kgo.HeartbeatInterval(100*time.Millisecond),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
				m.mu.Lock()
				defer m.mu.Unlock()
				m.assigned = map[string][]int32{}
				for topic, ps := range a {
					m.assigned[topic] = slices.Sorted(slices.Values(ps))
				}
			}),
			kgo.OnPartitionsRevoked(func(context.Context, *kgo.Client, map[string][]int32) {
				m.mu.Lock()
				defer m.mu.Unlock()
				m.assigned = nil
			}))
		if err != nil {
			t.Fatal(err)
		}
		m.cl = cl
		go func() {
			for ctx := context.Background(); !cl.PollFetches(ctx).IsClientClosed(); {
			}
		}()
		return m
	}
	// wait polls until the members' assignments are want (per member, the
	// partitions of both topics).
	wait := func(want [][]int32, ms ...*member) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		var got []string
		for time.Now().Before(deadline) {
			got = got[:0]
			ok := true
			for i, m := range ms {
				m.mu.Lock()
				a := m.assigned
				m.mu.Unlock()
				got = append(got, fmt.Sprint(a))
				if !slices.Equal(a["left"], want[i]) || !slices.Equal(a["right"], want[i]) {
					ok = false
				}
			}
			if ok {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("assignments %v, want %v of both topics", got, want)
	}

	b := join("b")
	wait([][]int32{{0, 1, 2, 3, 4}}, b)
	a := join("a")
	// Members are ordered by instance id: a gets the even partitions.
	wait([][]int32{{0, 2, 4}, {1, 3}}, a, b)
	c3 := join("c")
	wait([][]int32{{0, 3}, {1, 4}, {2}}, a, b, c3)
	// A member that leaves gives its partitions back to the others.
	c3.cl.Close()
	wait([][]int32{{0, 2, 4}, {1, 3}}, a, b)
	a.cl.Close()
	b.cl.Close()
}
