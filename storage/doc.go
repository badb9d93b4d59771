// Package storage owns sluice's infrastructure: the embedded Kafka broker,
// the engine's Kafka clients (administration, producers, the command log)
// and the local Pebble state store with its key encoding. It knows nothing
// of SQL or plans: exec and the root package build on it, and it imports
// neither sql nor planner.
//
// # Files
//
//   - broker.go: StartBroker, franz-go's kfake running in-process with its
//     log under a data directory (DESIGN.md decision 1).
//   - kafka.go: DialKafka, topic administration and offset listing.
//   - producer.go: NewProducer and ProducerOptions.ClientOpts.
//   - commandlog.go: the catalog's command topic (decision 2).
//   - state.go, keys.go: the Pebble DB and the order-preserving key
//     encoding (decision 6).
//   - errors.go: sentinel and typed errors.
//
// # What the embedded broker keeps, and what it does not
//
// These were checked against kfake (franz-go/pkg/kfake) and, where marked,
// are tested in broker_test.go. They are invariants the engine relies on or
// must work around.
//
//  1. Persisted in DataDir: topics with their configs; records (segment
//     files, written as produced); committed consumer group offsets
//     (appended to groups.log on every commit); producer ids, epochs and
//     transaction outcomes (pids.log), including offsets committed inside
//     transactions. Tested: records, topic, group offset and the
//     GroupTransactSession pattern survive Close and a restart on the same
//     DataDir, and a transactional id is usable again afterwards.
//  2. Durability is Kafka's default: an acknowledged record is in the page
//     cache, fsynced only when its segment rolls and on Close. A process
//     crash loses nothing; a machine crash can lose the tail. Set
//     BrokerConfig.SyncWrites to fsync every batch.
//  3. Saved only by a clean Close: group membership (so consumers can
//     rejoin without a rebalance) and the idempotent producers' sequence
//     windows. After a crash, consumers simply rejoin and producers get new
//     ids; a transaction open at the crash is aborted on load.
//  4. Memory: the broker keeps only per-batch metadata in memory; record
//     bytes are read back from the segment files. With an empty DataDir
//     everything, records included, lives in memory.
//  5. Retention and compaction run on a timer that exists only once some
//     topic is compacted or has an explicit retention config, and it fires
//     every log.cleaner.backoff.ms (default one hour). When it runs, topics
//     without retention.ms get Kafka's default of 7 days. So: changelog
//     topics are compacted at most hourly (restores read more than the
//     live key set), and any topic the engine must keep forever (the
//     command log) sets retention.ms=-1 explicitly. Committed offsets of an
//     empty group expire after offsets.retention.minutes (7 days).
//  6. One node: replication factor above 1 is rejected; use 0 (broker
//     default) when creating topics so the same code works on a real
//     cluster.
//  7. kfake takes no lock on its directory; two brokers on one DataDir
//     would corrupt it. StartBroker holds an OS lock on
//     DataDir/sluice-broker.lock (ErrDataDirInUse).
//  8. Auto topic creation is on, with 1 partition (Apache Kafka's default),
//     because producing to a new topic with kcat is the first thing people
//     try. It only triggers for clients that ask for it: every client this
//     package creates leaves kgo's AllowAutoTopicCreation off, and the
//     engine creates its topics explicitly with CreateTopic. Disable it
//     with a negative BrokerConfig.AutoCreatePartitions.
//  9. kfake binds 127.0.0.1 whatever it is told, and quietly moves to
//     another port when the requested one is taken. StartBroker binds the
//     listener itself so the configured interface is used and a taken port
//     fails with *AddrInUseError. The address advertised in metadata is
//     BrokerConfig.AdvertisedAddr or the listener's, with 0.0.0.0 shown as
//     127.0.0.1.
//  10. Close stops the listener first and drops requests in flight, except
//     offset commits, which it still applies. Close clients before the
//     broker.
//  11. kfake answers OffsetFetch for an unknown group with
//     GROUP_ID_NOT_FOUND where Apache Kafka returns no offsets;
//     CommittedOffsets returns an empty map for both.
//
// # Kafka clients
//
// kadm answers metadata from kgo's cache for up to 5 seconds.
// DescribeTopic and ListTopics therefore ask a broker directly, and
// CreateTopic and DeleteTopic purge the name from the cache, so a DDL
// statement sees its own effect immediately.
//
// Producers are idempotent with acks=all (kgo's defaults, set explicitly).
// Exactly-once tasks use ProducerOptions.ClientOpts to build a
// kgo.GroupTransactSession; StableOffsets gives the last stable offset that
// read_committed consumers stop at, EndOffsets the high watermark.
//
// # State
//
// One Pebble DB per engine. Keys start with a Namespace byte; operator
// state lives under a Prefix (namespace, query, operator, partition), and
// keys.go states the encoding's invariants: encoded order equals value
// order, field by field, and no encoded string is a prefix of another, so
// prefix scans and range deletions never cross into a neighbour's keys.
// Operators write without fsync because their durable copy is the
// changelog topic; metadata (PutMeta) is written synchronously.
package storage
