package storage

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers match them with errors.Is; every function wraps
// them with the name of the object involved.
var (
	// ErrClosed is returned by calls on a closed Broker, Kafka, CommandLog
	// or State.
	ErrClosed = errors.New("storage: closed")

	// ErrTopicNotFound is returned when an operation needs a topic that the
	// cluster does not have.
	ErrTopicNotFound = errors.New("topic not found")

	// ErrDataDirInUse is returned by StartBroker when another broker (in
	// this process or another) holds the data directory. kfake does not
	// lock its directory itself, and two brokers appending to the same
	// segment files would corrupt them.
	ErrDataDirInUse = errors.New("broker data directory is in use")

	// ErrCommandLogTruncated is returned by CommandLog.Replay when records
	// before the requested offset have been deleted (the topic was
	// recreated, or someone changed its retention). The catalog can then no
	// longer be rebuilt from the log.
	ErrCommandLogTruncated = errors.New("command log truncated")
)

// AddrInUseError is returned by StartBroker when its listen address is
// already taken. The engine reports it to the user with the address so they
// can pick another port (or stop the other process).
type AddrInUseError struct {
	Addr string
	Err  error // the listener's error
}

func (e *AddrInUseError) Error() string {
	return fmt.Sprintf("kafka listener address %s is already in use (another sluice or Kafka broker?)", e.Addr)
}

func (e *AddrInUseError) Unwrap() error { return e.Err }

// TopicMismatchError is returned by CreateTopic when the topic already
// exists with a different number of partitions. A topic's partition count
// decides which task owns which key, so it can never be silently accepted.
type TopicMismatchError struct {
	Topic                string
	Partitions, Existing int32
}

func (e *TopicMismatchError) Error() string {
	return fmt.Sprintf("topic %q exists with %d partitions, want %d", e.Topic, e.Existing, e.Partitions)
}
